// verify.md: the human-edited file that lists a repository's gates.
//
// Format (full description in docs/FORMATS.md, section "verify.md"):
//
//   # Verify
//   Any prose; it is ignored.
//
//   ## build (each step, timeout 600s)
//   ```sh
//   cmake -S . -B build && cmake --build build
//   ```
//
//   ## test (final, timeout 15m, after build)
//   ```sh
//   ctest --test-dir build --output-on-failure
//   ```
//
// Every `## ` heading starts a gate; its one fenced code block (``` or
// ```sh/bash/shell) is the command. Options in the parentheses, all optional:
// `each step` (default) or `final`; `timeout <N>[ms|s|m|h]` (default 300s);
// `in <dir>` (relative working directory); `after <gate>` (repeatable);
// `network` (the gate may use the network); `env <VAR>` (repeatable: pass
// this variable of tandem's environment, docs/GUARDRAILS.md).
//
// Parsing is strict: anything that looks like a gate but is not quite one is
// an error naming the line, what was expected and what was found, because a
// silently dropped gate means unverified edits.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/verify/gate.h"

namespace tandem::verify {

// Where verify.md lives: the repository root, next to AGENTS.md.
inline constexpr std::string_view kVerifyFileName = "verify.md";

// Parses verify.md text. An empty list is valid (no gates; callers should
// say so, e.g. with SummarizeGates). Errors: kInvalidArgument with
// "line N: expected ..., found ..." for malformed input, duplicate gate
// names, an `after` naming an unknown or later gate, or an `each step` gate
// after a `final` one.
Result<std::vector<Gate>> ParseVerifyMd(std::string_view text);

// Reads and parses `path`. kNotFound when the file does not exist (callers
// then detect gates, detect.h); kIo when it cannot be read; parse errors are
// prefixed with the path.
Result<std::vector<Gate>> LoadVerifyMd(const std::filesystem::path& path);

// Renders gates as verify.md text that ParseVerifyMd reads back to the same
// gates. `intro` is prose placed under the title (must not contain a code
// fence). REQUIRES: each gate is valid (as ParseVerifyMd would accept) and no
// command contains a line consisting of ``` alone.
std::string RenderVerifyMd(const std::vector<Gate>& gates, std::string_view intro = {});

// "300s", "1500ms": the timeout spelling RenderVerifyMd writes.
std::string FormatTimeout(std::chrono::milliseconds timeout);

}  // namespace tandem::verify

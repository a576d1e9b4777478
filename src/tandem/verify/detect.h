// DetectGates: gates for a repository that has no verify.md, guessed from
// the build system files at its root.
//
// Recognised: CMake/CTest (CMakeLists.txt), make (Makefile with optional
// test/check target), npm/yarn/pnpm (package.json scripts build, lint, test),
// pytest (pytest.ini, pyproject.toml/setup.cfg/tox.ini pytest sections, or a
// tests/ directory of test_*.py), cargo (Cargo.toml), go (go.mod). Compiling
// gates run each step; test suites that need a build run at the end. When
// several systems are present every one contributes gates, named
// "<system>-<gate>" to keep names unique.
//
// `tandem do` uses the result and prints `description`; `tandem init` writes
// it to verify.md with RenderVerifyMd. Reads files only; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tandem/verify/gate.h"

namespace tandem::verify {

struct Detection {
  std::vector<Gate> gates;
  // A sentence for people, e.g. "Detected CMake (CMakeLists.txt): build
  // (each step), test (final)." or why nothing was found.
  std::string description;
};

// Never fails: unreadable or malformed files count as absent and are
// mentioned in `description`.
Detection DetectGates(const std::filesystem::path& workspace);

}  // namespace tandem::verify

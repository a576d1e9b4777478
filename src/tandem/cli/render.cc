#include "tandem/cli/render.h"

#include "tandem/base/kill_point.h"
#include "tandem/base/overloaded.h"
#include "tandem/base/redact.h"

#include <fmt/format.h>

#include "tandem/protocol/event_json.h"

namespace tandem::cli {
std::string FormatDuration(double ms) {
  if (ms < 1000) return fmt::format("{:.0f} ms", ms);
  if (ms < 60000) return fmt::format("{:.1f} s", ms / 1000);
  return fmt::format("{}m{:02}s", static_cast<int>(ms / 60000), static_cast<int>(ms / 1000) % 60);
}

std::string FormatCost(double usd) {
  if (usd == 0) return "$0";
  if (usd < 0.01) return fmt::format("${:.4f}", usd);
  return fmt::format("${:.2f}", usd);
}

std::string FormatSpeed(double tokens_per_s) {
  return tokens_per_s > 0 ? fmt::format(" · {:.0f} tok/s", tokens_per_s) : "";
}

TerminalRenderer::TerminalRenderer(std::FILE* out, bool color) : out_(out), color_(color) {}

void TerminalRenderer::EndTextLine() {
  if (tool_open_) {
    // Something happened while the tool ran (an approval, a review): its
    // result then goes on a line of its own.
    std::fputs("\n", out_);
    tool_open_ = false;
  }
  if (!in_text_) return;
  std::fputs(color_ ? "\033[0m\n" : "\n", out_);
  in_text_ = false;
}

void TerminalRenderer::Publish(const protocol::Event& event) {
  using namespace protocol;
  std::lock_guard<std::mutex> lock(mu_);
  const char* dim = color_ ? "\033[2m" : "";
  const char* red = color_ ? "\033[31m" : "";
  const char* green = color_ ? "\033[32m" : "";
  const char* yellow = color_ ? "\033[33m" : "";
  const char* bold = color_ ? "\033[1m" : "";
  const char* reset = color_ ? "\033[0m" : "";
  std::string prefix = event.scope.task_id.empty() ? "" : "[" + event.scope.task_id + "] ";
  std::visit(
      Overloaded{
          [&](const RunStarted& e) {
            // `tandem run` knows no first request yet: its tasks build their own.
            std::string first_request =
                e.first_request_tokens > 0
                    ? fmt::format(" · first request ~{} tokens", e.first_request_tokens)
                    : "";
            fmt::print(out_, "{}tandem {}{} · {} · model {} · gates from {}{}\n", bold, e.kind,
                       reset, e.goal, e.model, e.gates_source, first_request);
          },
          [&](const StepStarted& e) {
            EndTextLine();
            if (e.attempt > 1) {
              fmt::print(out_, "{}── step {} (attempt {}){}\n", bold, e.step, e.attempt, reset);
            } else {
              fmt::print(out_, "{}── step {}{}\n", bold, e.step, reset);
            }
          },
          [&](const ModelDelta& e) {
            if (!in_text_) {
              fmt::print(out_, "{}{}", prefix, dim);
              in_text_ = true;
            }
            std::fwrite(e.text.data(), 1, e.text.size(), out_);
            std::fflush(out_);
          },
          [&](const ModelRestarted& e) {
            EndTextLine();
            fmt::print(out_, "{}  ↻ model request retried ({}), attempt {} in {}{}\n", yellow,
                       e.reason, e.attempt, FormatDuration(e.delay_ms), reset);
          },
          [&](const ModelCallFinished& e) {
            EndTextLine();
            fmt::print(out_, "{}  model {} · ttft {}{} · {} in / {} out / {} cached{}\n", dim,
                       e.model, FormatDuration(e.timings.time_to_first_token_ms),
                       FormatSpeed(e.timings.output_tokens_per_s),
                       e.usage.input_tokens, e.usage.output_tokens, e.usage.cached_input_tokens,
                       reset);
          },
          [&](const ToolStarted& e) {
            EndTextLine();
            fmt::print(out_, "{}  → {}", prefix, e.summary.empty() ? e.name : e.summary);
            std::fflush(out_);
            tool_open_ = true;
          },
          [&](const ToolFinished& e) {
            tool_open_ = false;
            bool ok = e.outcome == protocol::ToolOutcome::kOk;
            bool refused = e.outcome == protocol::ToolOutcome::kRefused;
            const char* color = ok ? green : (refused ? yellow : red);
            const char* mark = ok ? "✓" : (refused ? "⊘" : "✗");
            fmt::print(out_, "  {}{}{} {}{}{}\n", color, mark, reset, dim,
                       e.detail.empty() ? FormatDuration(e.duration_ms) : e.detail, reset);
          },
          [&](const CheckpointTaken&) {},
          [&](const GateFinished& e) {
            EndTextLine();
            bool pass = e.verdict == protocol::Verdict::kPass;
            fmt::print(out_, "{}  gate {:<10} {}{}{} {}{}{}\n", prefix, e.gate, pass ? green : red,
                       protocol::Name(e.verdict), reset, dim,
                       e.cached ? "(cached)" : FormatDuration(e.duration_ms), reset);
          },
          [&](const StepRolledBack& e) {
            EndTextLine();
            fmt::print(out_, "{}{}  ⟲ rolled back step {}: {} ({} retries left){}\n", prefix,
                       yellow, e.step, e.reason, e.retries_left, reset);
          },
          [&](const StepFinished&) {},
          [&](const Notice& e) {
            EndTextLine();
            const char* color = e.level == protocol::NoticeLevel::kError ? red
                                : e.level == protocol::NoticeLevel::kWarn  ? yellow
                                                                           : dim;
            fmt::print(out_, "{}{}{}{}\n", prefix, color, e.text, reset);
          },
          [&](const RunFinished& e) {
            EndTextLine();
            bool ok = e.outcome == protocol::Outcome::kSucceeded;
            fmt::print(out_, "\n{}{}{}{} · {} steps · {} retries · {} tokens in ({} cached) / {} out · {}\n",
                       bold, ok ? green : red, protocol::Name(e.outcome), reset, e.steps, e.retries,
                       e.usage.input_tokens, e.usage.cached_input_tokens, e.usage.output_tokens,
                       FormatCost(e.cost_usd));
            fmt::print(out_, "wall {} = model {} + tools {} + gates {}{} + tandem {}\n",
                       FormatDuration(e.wall_ms), FormatDuration(e.model_ms),
                       FormatDuration(e.tool_ms), FormatDuration(e.gate_ms),
                       e.human_ms > 0 ? " + waiting for you " + FormatDuration(e.human_ms) : "",
                       FormatDuration(e.harness_ms));
            if (!e.summary.empty()) fmt::print(out_, "{}\n", e.summary);
            if (!e.best_attempt_ref.empty()) {
              fmt::print(out_, "best attempt kept at {} (git diff HEAD {})\n", e.best_attempt_ref,
                         e.best_attempt_ref);
            }
          },
          [&](const TaskStarted& e) {
            EndTextLine();
            fmt::print(out_, "\n{}▶ {}: {}{} {}· {} tier · {}{}{}\n", bold, event.scope.task_id,
                       e.title, reset, dim, e.tier, e.model,
                       e.attempt > 1 ? fmt::format(" · attempt {}", e.attempt) : "", reset);
          },
          [&](const TaskFinished& e) {
            EndTextLine();
            bool done = e.state == protocol::TaskEnd::kDone;
            bool failed = e.state == protocol::TaskEnd::kFailed;
            fmt::print(out_, "{}{}{} {}{}{} {}{}\n", done ? green : (failed ? red : yellow),
                       done ? "✓" : "■", reset, event.scope.task_id, done ? "" : " ",
                       done ? "" : protocol::Name(e.state), dim,
                       e.summary.substr(0, e.summary.find('\n')));
            std::fputs(reset, out_);
          },
          [&](const ApprovalRequested& e) {
            EndTextLine();
            fmt::print(out_, "{}{}? approval needed: {}{}\n", prefix, yellow, e.why, reset);
          },
          [&](const ApprovalDecided& e) {
            EndTextLine();
            fmt::print(out_, "{}{}{} by {} after {}{}{}\n", prefix,
                       e.decision == protocol::ApprovalDecision::kApproved ? green : red,
                       protocol::Name(e.decision), protocol::Name(e.decided_by),
                       FormatDuration(static_cast<double>(e.waited_ms)), reset,
                       e.reason.empty() ? "" : ": " + e.reason);
          },
          [&](const Escalated& e) {
            EndTextLine();
            fmt::print(out_, "{}{}↑ escalated ({}): {} → {}: {}{}\n", prefix, yellow,
                       protocol::Name(e.action),
                       e.from_tier, e.to_tier, e.reason, reset);
          },
          [&](const protocol::ReviewFinished& e) {
            EndTextLine();
            bool approved = e.verdict == protocol::ReviewVerdict::kApprove;
            fmt::print(out_, "{}{}{} review {} by {}: {} after {}{}{}\n", prefix,
                       approved ? green : (e.verdict == protocol::ReviewVerdict::kError ? red : yellow),
                       approved ? "✓" : "✎", e.review, e.model, protocol::Name(e.verdict),
                       FormatDuration(e.wait_ms), reset,
                       e.reasons.empty() ? "" : ": " + e.reasons.substr(0, e.reasons.find('\n')));
          },
          [&](const SteerDelivered& e) {
            EndTextLine();
            fmt::print(out_, "{}{}✎ steer note delivered to the {}: {}{}\n", prefix, dim, e.where,
                       e.note, reset);
          },
      },
      event.payload);
  std::fflush(out_);
}

void JsonlRenderer::Publish(const protocol::Event& event) {
  // The last line of defence: events carry redacted text already.
  std::string line = Redactor::Apply(protocol::EventToJson(event).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace));
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
  KillPoint(protocol::EventTypeName(event.payload));  // crash tests: right after the line
}

}  // namespace tandem::cli

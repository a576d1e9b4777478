// tandem ask "prompt" [--role R | --model M]: streams one reply to the
// terminal and ends with a line of model, latency, throughput, tokens, cost.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "tandem/cli/command.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/signals.h"

namespace tandem::cli {
namespace {

struct AskOptions {
  std::string prompt;
  std::string role = "executor";
  std::string model;
  std::string system;
  int max_tokens = 2048;
  std::vector<std::string> overrides;
};

// Writes text deltas to stdout as they arrive (on the transport thread).
class PrintingObserver : public providers::StreamObserver {
 public:
  void OnEvent(const protocol::StreamEvent& event) override {
    if (const auto* delta = std::get_if<protocol::TextDelta>(&event)) {
      std::fwrite(delta->text.data(), 1, delta->text.size(), stdout);
      std::fflush(stdout);
      printed_ = true;
    } else if (const auto* call = std::get_if<protocol::ToolCallReady>(&event)) {
      fmt::print("\n[tool call {} {}]\n", call->call.name, call->call.arguments_json);
    }
  }
  void OnRetry(const protocol::ModelError& error, int attempt, int delay_ms) override {
    fmt::print(stderr, "{}[{}; retry {} in {} ms]\n", printed_ ? "\n" : "",
               protocol::ModelErrorKindName(error.kind), attempt, delay_ms);
    printed_ = false;
  }

 private:
  bool printed_ = false;
};

int RunAsk(const std::string& repo_root, const AskOptions& options) {
  auto runtime = LoadRuntime(repo_root, {options.overrides, false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  auto role = config::ParseRole(options.role);
  if (!role) {
    fmt::print(stderr, "tandem: unknown role '{}' (planner, executor, reviewer)\n", options.role);
    return kExitUsage;
  }
  auto handle = OpenModel(**runtime, *role, options.model);
  if (!handle) {
    fmt::print(stderr, "tandem: {}\n(run `tandem doctor` to see what is configured)\n",
               handle.error().message());
    return kExitUsage;
  }
  protocol::ModelRequest request;
  request.model = handle->resolved.model.id;
  request.system = options.system;
  request.max_tokens = options.max_tokens;
  request.messages.push_back(protocol::Message::User(options.prompt));

  PrintingObserver observer;
  auto pending = handle->client->Start(request, &observer);
  InterruptScope interrupt([&pending] { pending->Cancel(); });
  auto reply = pending->Wait();
  if (!reply) {
    if (reply.error().kind == protocol::ModelErrorKind::kCancelled) {
      fmt::print(stderr, "\ninterrupted\n");
      return kExitInterrupted;
    }
    fmt::print(stderr, "\ntandem: {} error from {}: {}\n",
               protocol::ModelErrorKindName(reply.error().kind), handle->resolved.provider.name,
               reply.error().message);
    return kExitProvider;
  }
  const protocol::ModelResponse& r = *reply;
  double cost = config::ReplyCostUsd(handle->resolved.model, r);
  fmt::print("\n{}{} · ttft {}{} · {} in / {} out / {} cached · {}{}{}\n",
             UseColor() ? "\033[2m" : "",
             r.served_by ? r.served_by->model_name : handle->resolved.model_name,
             FormatDuration(r.timings.time_to_first_token_ms),
             FormatSpeed(r.timings.output_tokens_per_s),
             r.usage.input_tokens, r.usage.output_tokens, r.usage.cached_input_tokens,
             FormatCost(cost), r.retries > 0 ? fmt::format(" · {} retries", r.retries) : "",
             UseColor() ? "\033[0m" : "");
  return kExitSuccess;
}

}  // namespace

CommandRun SetupAsk(CLI::App& app) {
  auto options = std::make_shared<AskOptions>();
  app.add_option("prompt", options->prompt, "What to ask")->required();
  app.add_option("--role", options->role, "Role whose model answers (planner, executor, reviewer)");
  app.add_option("--model,-m", options->model, "A model name from the configuration");
  app.add_option("--system", options->system, "System prompt");
  app.add_option("--max-tokens", options->max_tokens, "Upper bound on the reply's tokens");
  app.add_option("--set", options->overrides, "Override a config key: --set limits.max_steps=10");
  return [options](const Invocation& in) { return RunAsk(in.repo_root, *options); };
}

}  // namespace tandem::cli

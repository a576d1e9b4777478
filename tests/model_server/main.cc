// tandem-model-server: a scripted stand-in for OpenAI / Anthropic model APIs,
// for tests and benchmarks. Prints `listening 127.0.0.1:PORT` once ready.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/model_server/faults.h"
#include "tests/model_server/script.h"
#include "tests/model_server/server.h"

namespace {

using tandem::model_server::Fault;
using tandem::model_server::ModelServer;
using tandem::model_server::ServerOptions;

int Fail(const std::string& message) {
  std::fprintf(stderr, "tandem-model-server: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Scripted OpenAI/Anthropic-compatible model server for tests"};
  std::string script_path;
  int port = 0;
  int tokens_per_second = 1200;
  int ttft_ms = 150;
  int prefill_tokens_per_second = 0;
  std::string record_path;
  std::string api_key;
  std::vector<std::string> fault_specs;
  app.add_option("--script", script_path, "script JSON file")->required();
  app.add_option("--port", port, "port on 127.0.0.1 (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--tokens-per-second", tokens_per_second, "streaming rate")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ttft-ms", ttft_ms, "time to first token")->check(CLI::NonNegativeNumber);
  app.add_option("--prefill-tokens-per-second", prefill_tokens_per_second,
                 "uncached prompt tokens per second added to the time to first token (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--record", record_path, "append one JSON line per request to this file");
  app.add_option("--api-key", api_key, "require this key (Bearer / x-api-key)");
  app.add_option("--fault", fault_specs, "fault for all requests, e.g. http_429:times=2");
  // A later flag wins (ModelServerProcess puts caller's extra args last).
  for (CLI::Option* option : app.get_options()) {
    if (option->get_name() != "--fault" && option->get_name() != "--help") {
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
  }
  CLI11_PARSE(app, argc, argv);

  auto script = tandem::model_server::LoadScript(script_path);
  if (!script) return Fail(script.error().message());
  ServerOptions options;
  options.tokens_per_second = script->tokens_per_second.value_or(tokens_per_second);
  options.ttft_ms = script->ttft_ms.value_or(ttft_ms);
  options.prefill_tokens_per_second =
      script->prefill_tokens_per_second.value_or(prefill_tokens_per_second);
  options.script = std::move(*script);
  options.api_key = api_key;
  options.record_path = record_path;
  for (const std::string& spec : fault_specs) {
    auto fault = tandem::model_server::ParseFaultSpec(spec);
    if (!fault) return Fail(fault.error().message());
    options.faults.push_back(*fault);
  }

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = ModelServer::Create(std::move(options));
  if (!server) return Fail(server.error().message());
  auto bound = (*server)->Bind(port);
  if (!bound) return Fail(bound.error().message());

  std::thread([&stop_signals, raw = server->get()] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    raw->Stop();
    // Idle keep-alive connections can hold httplib's workers for seconds;
    // everything worth keeping (the record file) is already flushed.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::_Exit(0);
  }).detach();

  std::printf("listening 127.0.0.1:%d\n", *bound);
  std::fflush(stdout);
  (*server)->Serve();
  std::fflush(stdout);
  std::_Exit(0);
}

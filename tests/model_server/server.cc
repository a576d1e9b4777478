#include "tests/model_server/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "tests/model_server/anthropic_wire.h"
#include "tests/model_server/openai_wire.h"
#include "tests/model_server/stream_writer.h"
#include "tests/model_server/tokenizer.h"

namespace tandem::model_server {
namespace {

using nlohmann::json;

constexpr size_t kThreadPoolSize = 256;  // so 64+ concurrent streams never queue
constexpr int kCachedBytesPerToken = 4;
constexpr int kListenBacklog = 1024;  // httplib listens with a backlog of 5

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Request headers with lowercased names, minus the pseudo headers httplib adds.
Headers LowercaseHeaders(const httplib::Request& request) {
  Headers headers;
  for (const auto& [name, value] : request.headers) {
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT") {
      continue;
    }
    headers[Lowercase(name)] = value;
  }
  return headers;
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SendJson(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(Dump(body), "application/json");
}

// Counts a generation request as in flight from its arrival until Release()
// (or destruction), which comes before the last byte of its response is
// written: a client that has its whole response can never see the server
// still count it.
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& count) : count_(&count), at_start_(++count) {}
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { Release(); }
  int at_start() const { return at_start_; }
  void Release() {
    if (count_ != nullptr) count_->fetch_sub(1);
    count_ = nullptr;
  }

 private:
  std::atomic<int>* count_;
  int at_start_;
};

// "Wed, 21 Oct 2015 07:28:00 GMT", `seconds` from now.
std::string HttpDateIn(int seconds) {
  std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string FaultMessage(FaultKind kind) {
  switch (kind) {
    case FaultKind::kHttp429:
      return "model server: injected fault http_429 (rate limited)";
    case FaultKind::kHttp529:
      return "Overloaded";
    default:
      return "model server: injected fault " + std::string(FaultKindName(kind));
  }
}

}  // namespace

Result<std::unique_ptr<ModelServer>> ModelServer::Create(ServerOptions options) {
  std::unique_ptr<ModelServer> server(new ModelServer(std::move(options)));
  if (!server->options_.record_path.empty()) {
    server->recorder_ = TRY(Recorder::Open(server->options_.record_path));
  }
  return server;
}

ModelServer::ModelServer(ServerOptions options)
    : options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()),
      openai_(std::make_unique<OpenAiWire>()),
      anthropic_(std::make_unique<AnthropicWire>()) {
  for (const Fault& fault : options_.faults) global_slots_.emplace_back(fault);
  for (const Turn& turn : options_.script.turns) {
    std::vector<FaultSlot> slots;
    for (const Fault& fault : turn.faults) slots.emplace_back(fault);
    turn_slots_.push_back(std::move(slots));
  }
  server_->new_task_queue = [] { return new httplib::ThreadPool(kThreadPoolSize); };
  server_->set_keep_alive_max_count(1'000'000);
  // Real APIs flush each SSE event at once; with Nagle on, a reply's first
  // small write on a reused connection waited ~40 ms for the client's
  // delayed ACK.
  server_->set_tcp_nodelay(true);
  // Remember the listening socket so Bind can widen its backlog: with
  // httplib's backlog of 5, a burst of 64 connects loses SYNs and the clients
  // wait a second or more to retransmit.
  server_->set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_socket_ = sock;
  });
  server_->Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    HandleModels(req, res);
  });
  server_->Post("/v1/chat/completions",
                [this](const httplib::Request& req, httplib::Response& res) {
                  HandleGenerate(*openai_, req, res);
                });
  server_->Post("/v1/messages", [this](const httplib::Request& req, httplib::Response& res) {
    HandleGenerate(*anthropic_, req, res);
  });
}

ModelServer::~ModelServer() = default;

Result<int> ModelServer::Bind(int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port("127.0.0.1");
    if (bound < 0) return Unavailable("cannot bind 127.0.0.1 to any port");
  } else if (!server_->bind_to_port("127.0.0.1", port)) {
    return Unavailable("cannot bind 127.0.0.1:" + std::to_string(port));
  }
  // Calling listen() again on a listening socket only changes its backlog.
  if (listen_socket_ >= 0 && ::listen(listen_socket_, kListenBacklog) != 0) {
    return Unavailable("cannot widen the listen backlog");
  }
  return bound;
}

void ModelServer::Serve() { server_->listen_after_bind(); }

void ModelServer::Stop() {
  stop_.Stop();
  server_->stop();
}

void ModelServer::Record(long long seq, const httplib::Request& request, const json& body,
                         std::optional<size_t> turn, std::optional<FaultKind> fault, int status,
                         std::optional<int> in_flight) {
  if (!recorder_) return;
  json headers = json::object();
  for (const auto& [name, value] : LowercaseHeaders(request)) headers[name] = value;
  json record = {{"seq", seq},
                 {"method", request.method},
                 {"path", request.path},
                 {"headers", std::move(headers)},
                 {"body", body},
                 {"turn", turn ? json(*turn) : json(nullptr)},
                 {"fault", fault ? json(std::string(FaultKindName(*fault))) : json(nullptr)},
                 {"status", status}};
  if (in_flight) record["in_flight"] = *in_flight;
  Status written = recorder_->Write(record);
  if (!written.ok()) std::fprintf(stderr, "tandem-model-server: %s\n", written.ToString().c_str());
}

void ModelServer::HandleModels(const httplib::Request& request, httplib::Response& response) {
  long long seq = next_seq_++;
  if (!options_.api_key.empty()) {
    Headers headers = LowercaseHeaders(request);
    bool ok = headers["authorization"] == "Bearer " + options_.api_key ||
              headers["x-api-key"] == options_.api_key;
    if (!ok) {
      WireError error = openai_->Error(401, "Incorrect API key provided.");
      Record(seq, request, nullptr, std::nullopt, std::nullopt, error.status);
      return SendJson(response, error.status, error.body);
    }
  }
  json data = json::array();
  for (const std::string& model : options_.script.models) {
    data.push_back(
        {{"id", model}, {"object", "model"}, {"created", 0}, {"owned_by", "tandem-model-server"}});
  }
  Record(seq, request, nullptr, std::nullopt, std::nullopt, 200);
  SendJson(response, 200, {{"object", "list"}, {"data", std::move(data)}});
}

ActiveFaults ModelServer::TakeFaults(size_t turn_index) {
  ActiveFaults faults;
  for (FaultSlot& slot : global_slots_) {
    if (slot.Take()) faults.Add(slot.fault());
  }
  for (FaultSlot& slot : turn_slots_[turn_index]) {
    if (slot.Take()) faults.Add(slot.fault());
  }
  return faults;
}

Reply ModelServer::MakeReply(const WireFormat& wire, size_t turn_index, long long seq,
                             bool bad_json) const {
  const Turn& turn = options_.script.turns[turn_index];
  Reply reply;
  reply.text = turn.text;
  for (size_t i = 0; i < turn.tool_calls.size(); ++i) {
    const ScriptedToolCall& call = turn.tool_calls[i];
    ToolCallReply out;
    out.id = !call.id.empty() ? call.id
                              : wire.ToolCallIdPrefix() + "scripted_" + std::to_string(seq) + "_" +
                                    std::to_string(i);
    out.name = call.name;
    out.arguments = bad_json ? CorruptJson(call.arguments) : call.arguments;
    reply.tool_calls.push_back(std::move(out));
  }
  return reply;
}

void ModelServer::HandleGenerate(const WireFormat& wire, const httplib::Request& request,
                                 httplib::Response& response) {
  const auto start = StopSignal::Clock::now();
  const long long seq = next_seq_++;
  // Released when this handler returns (the response is written after), or
  // by the stream just before its last byte.
  auto in_flight = std::make_shared<InFlight>(in_flight_);
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  const bool body_is_json = !body.is_discarded();
  const json recorded_body = body_is_json ? body : json(request.body);
  std::optional<size_t> turn;
  auto fail = [&](const WireError& error, std::optional<FaultKind> fault = std::nullopt) {
    Record(seq, request, recorded_body, turn, fault, error.status, in_flight->at_start());
    SendJson(response, error.status, error.body);
  };
  try {
    const Headers headers = LowercaseHeaders(request);
    if (auto error = wire.CheckAuth(headers, options_.api_key)) return fail(*error);
    if (!body_is_json || !body.is_object()) {
      return fail(wire.Error(400, "We could not parse the JSON body of your request."));
    }
    if (auto error = wire.Validate(headers, body)) return fail(*error);

    const Conversation conversation = wire.Summarize(body);
    turn = SelectTurn(options_.script, conversation);
    if (!turn) {
      return fail(wire.Error(400, "model server: no scripted turn matches (assistant_turns=" +
                                      std::to_string(conversation.assistant_turns) + ")"));
    }
    const ActiveFaults faults = TakeFaults(*turn);
    if (faults.http) {
      WireError error =
          wire.Error(HttpFaultStatus(faults.http->kind), FaultMessage(faults.http->kind));
      if (faults.http->retry_after_s) {
        response.set_header("retry-after", std::to_string(*faults.http->retry_after_s));
      }
      if (faults.http->retry_after_ms) {
        response.set_header("retry-after-ms", std::to_string(*faults.http->retry_after_ms));
      }
      if (faults.http->retry_after_date_s) {
        response.set_header("retry-after", HttpDateIn(*faults.http->retry_after_date_s));
      }
      return fail(error, faults.http->kind);
    }
    const bool stream = wire.WantsStream(body);
    if (!stream && faults.Has(FaultKind::kErrorEvent)) {
      // Without a stream there is no event to fail in: fail the whole request.
      return fail(wire.Error(500, "model server: injected fault error_event"),
                  FaultKind::kErrorEvent);
    }

    const std::string prompt = wire.CanonicalPrompt(body);
    const size_t cached_bytes =
        prefix_cache_.Lookup(request.path + " " + conversation.model, prompt);
    auto plan = std::make_shared<StreamPlan>();
    plan->usage.input_tokens = EstimateTokens(prompt.size());
    plan->usage.cached_tokens = static_cast<int>(cached_bytes / kCachedBytesPerToken);
    plan->reply = MakeReply(wire, *turn, seq, faults.Has(FaultKind::kBadToolJson));
    const Turn& scripted = options_.script.turns[*turn];
    plan->steps =
        BuildSteps(plan->reply, scripted.interleave_tool_calls && wire.CanInterleaveToolCalls());
    plan->faults = faults.stream;
    plan->start = start;
    plan->ttft_ms = options_.ttft_ms;
    if (options_.prefill_tokens_per_second > 0) {
      const int64_t uncached = std::max<int64_t>(
          0, int64_t{plan->usage.input_tokens} - int64_t{plan->usage.cached_tokens});
      plan->ttft_ms += static_cast<int>(uncached * 1000 / options_.prefill_tokens_per_second);
    }
    plan->tokens_per_second = options_.tokens_per_second;
    ResponseMeta meta = wire.Meta(body, wire.ResponseIdPrefix() + "scripted" + std::to_string(seq));
    meta.created = static_cast<long long>(std::time(nullptr));

    Record(seq, request, recorded_body, turn, faults.RecordedKind(), 200, in_flight->at_start());
    response.status = 200;
    response.set_header("x-request-id", "req_scripted" + std::to_string(seq));
    response.set_header("request-id", "req_scripted" + std::to_string(seq));

    if (stream) {
      plan->encoder = wire.NewEncoder(meta);
      response.set_header("cache-control", "no-cache");
      response.set_chunked_content_provider(
          "text/event-stream", [this, plan, in_flight](size_t, httplib::DataSink& sink) {
            StreamEnd end = WriteStream(*plan, stop_, [&sink](const std::string& data) {
              return data.empty() || sink.write(data.data(), data.size());
            });
            in_flight->Release();  // before the end of the body reaches the client
            if (end == StreamEnd::kAbort) return false;  // httplib drops the connection
            sink.done();
            return true;
          });
      return;
    }

    // stream:false answers after the time the whole generation would take.
    if (!stop_.SleepUntil(start + ReplyDuration(*plan))) {
      return SendJson(response, 503, wire.Error(503, "model server: shutting down").body);
    }
    plan->usage.output_tokens = static_cast<int>(plan->steps.size());
    std::string text = Dump(wire.Response(meta, plan->reply, plan->usage));
    const bool reset = faults.Has(FaultKind::kReset);
    if (!reset && !faults.Has(FaultKind::kTruncate)) {
      response.set_content(text, "application/json");
      return;
    }
    // Cut the body in half: dropped connection (reset) or clean but short end.
    auto half = std::make_shared<std::string>(text.substr(0, text.size() / 2));
    response.set_chunked_content_provider("application/json",
                                          [half, reset](size_t, httplib::DataSink& sink) {
                                            if (!sink.write(half->data(), half->size()) || reset)
                                              return false;
                                            sink.done();
                                            return true;
                                          });
  } catch (const std::exception& e) {
    // A bug here must not kill the server: report it to the client instead.
    fail(wire.Error(500, std::string("model server: internal error: ") + e.what()));
  }
}

}  // namespace tandem::model_server

#include "tandem/tools/mcp_tools.h"

#include <algorithm>
#include <filesystem>

#include "tandem/base/redact.h"
#include "tandem/platform/sandbox.h"
#include "tandem/tools/text.h"

namespace tandem::tools {
namespace {

constexpr size_t kMaxExposedName = 64;  // OpenAI's limit on function names

std::string ExposedName(const std::string& server, const std::string& tool) {
  std::string name = "mcp__" + server + "__" + tool;
  std::replace(name.begin(), name.end(), '.', '_');  // providers allow [A-Za-z0-9_-]
  return name;
}

bool Listed(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Redacted, valid UTF-8, at most kMaxMcpResultBytes (head and tail kept).
std::string Capped(const std::string& raw) {
  std::string text = SanitizeUtf8(Redactor::Apply(raw));
  if (text.size() <= kMaxMcpResultBytes) return text;
  const size_t half = kMaxMcpResultBytes / 2;
  std::string head(Utf8Truncate(text, half));
  size_t tail_start = text.size() - half;
  while (tail_start < text.size() && (static_cast<unsigned char>(text[tail_start]) & 0xC0) == 0x80) {
    ++tail_start;
  }
  return head + "\n[... " + std::to_string(tail_start - head.size()) +
         " bytes of the tool's result omitted ...]\n" + text.substr(tail_start);
}

}  // namespace

std::shared_ptr<McpTools> McpTools::Start(const std::string& workspace, const ToolOptions& options,
                                          std::vector<McpServerSetup> servers,
                                          std::stop_token cancel) {
  std::shared_ptr<McpTools> out(new McpTools());
  std::sort(servers.begin(), servers.end(),
            [](const McpServerSetup& a, const McpServerSetup& b) { return a.name < b.name; });
  for (auto& setup : servers) out->AddServer(workspace, options, std::move(setup), cancel);
  std::sort(out->tools_.begin(), out->tools_.end(),
            [](const McpTool& a, const McpTool& b) { return a.spec.name < b.spec.name; });
  return out;
}

void McpTools::AddServer(const std::string& workspace, const ToolOptions& options,
                         McpServerSetup setup, std::stop_token cancel) {
  const std::string name = setup.name;
  auto fail = [&](const std::string& why) {
    notes_.push_back("MCP server '" + name + "' left out: " + why);
    states_.push_back({name, "failed: " + why});
  };
  CommandAvailability availability = CheckCommandAvailability(options.sandbox);
  if (!availability.available) return fail("commands are unavailable: " + availability.note);
  platform::ChildPolicy child = options.child;
  child.env.include.insert(child.env.include.end(), setup.env.begin(), setup.env.end());
  child.network = setup.network;
  if (availability.sandboxed) {
    // The server's program and script stay visible where the sandbox hides
    // the rest (a private /tmp, the home): its user configured them.
    platform::EnvMap env = platform::ProcessEnvironment();
    auto files = platform::ProgramFiles(setup.argv, env["PATH"], env["HOME"]);
    if (!files) return fail(files.error().message());
    child.program_files = std::move(*files);
  }
  std::string cwd = setup.cwd.empty() ? workspace : (std::filesystem::path(workspace) / setup.cwd).string();

  auto server = std::make_unique<Server>();
  server->options.name = name;
  server->options.start_timeout = setup.start_timeout;
  server->options.call_timeout = setup.call_timeout;
  platform::ConfineProcess(availability.sandboxed ? platform::ProbeSandbox().bwrap : "", child,
                           workspace, cwd, setup.argv, {}, &server->options.spec);
  auto client = mcp::Client::Connect(server->options, cancel);
  if (!client) return fail(Redactor::Apply(client.error().message()));
  auto listed = (*client)->ListTools(cancel);
  if (!listed) return fail(Redactor::Apply(listed.error().message()));
  states_.push_back({name, std::string("running (") + mcp::RevisionName((*client)->revision()) + ")"});
  for (const mcp::ToolInfo& info : *listed) {
    if (!setup.enabled_tools.empty() && !Listed(setup.enabled_tools, info.name)) continue;
    if (Listed(setup.disabled_tools, info.name)) continue;
    McpTool tool;
    tool.spec.name = ExposedName(name, info.name);
    if (tool.spec.name.size() > kMaxExposedName) {
      notes_.push_back("MCP tool '" + info.name + "' of server '" + name + "' left out: " +
                       tool.spec.name + " is longer than " + std::to_string(kMaxExposedName) +
                       " characters");
      continue;
    }
    if (Find(tool.spec.name) != nullptr) {
      notes_.push_back("MCP tool '" + info.name + "' of server '" + name + "' left out: its name " +
                       tool.spec.name + " is taken");
      continue;
    }
    tool.spec.description = Redactor::Apply(info.description);
    tool.spec.parameters = info.input_schema;
    tool.server = name;
    tool.tool = info.name;
    tool.read_only = info.read_only;
    tool.needs_approval = info.destructive || setup.network;
    tools_.push_back(std::move(tool));
  }
  {
    MutexLock lock(server->mu);
    server->client = std::move(*client);
  }
  server->setup = std::move(setup);
  servers_.push_back(std::move(server));
}

McpTools::~McpTools() { Shutdown(); }

void McpTools::Shutdown() {
  for (auto& server : servers_) {
    MutexLock lock(server->mu);
    if (server->client) server->client->Shutdown();
  }
}

const McpTool* McpTools::Find(const std::string& name) const {
  for (const McpTool& t : tools_) {
    if (t.spec.name == name) return &t;
  }
  return nullptr;
}

ToolOutcome McpTools::Call(const McpTool& tool, const nlohmann::json& arguments,
                           std::stop_token cancel) {
  Server* server = nullptr;
  for (auto& s : servers_) {
    if (s->options.name == tool.server) server = s.get();
  }
  if (server == nullptr) return Error(tool.spec.name + ": its server is not running");
  std::shared_ptr<mcp::Client> client;  // kept alive even if another call restarts the server
  {
    MutexLock lock(server->mu);
    if (!server->client->alive() && !server->restarted) {
      // Restarted once per run after a crash; a second crash leaves it out.
      server->restarted = true;
      auto again = mcp::Client::Connect(server->options, cancel);
      if (again) server->client = std::move(*again);
    }
    client = server->client;
  }
  auto result = client->CallTool(tool.tool, arguments, cancel);
  ToolOutcome outcome;
  if (!result) {
    outcome = Error(tool.spec.name + ": " + Capped(result.error().message()));
  } else if (result->is_error) {
    outcome = Error(tool.spec.name + " failed: " + Capped(result->text));
  } else {
    outcome = Ok(result->text.empty() ? "(no output)" : Capped(result->text));
  }
  // A tool of unknown effect may have changed the workspace.
  outcome.ran_command = !tool.read_only;
  return outcome;
}

}  // namespace tandem::tools

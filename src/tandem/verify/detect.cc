#include "tandem/verify/detect.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

namespace tandem::verify {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// One build system's contribution.
struct Found {
  std::string system;  // name prefix when several systems are found: "cmake"
  std::string label;   // for people: "CMake (CMakeLists.txt)"
  std::vector<Gate> gates;
  std::string note;    // extra sentence, e.g. a file that could not be parsed
};

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Jobs() { return std::to_string(std::max(1u, std::thread::hardware_concurrency())); }

Gate MakeGate(std::string name, std::string command, GateWhen when, seconds timeout,
              std::vector<std::string> after = {}) {
  Gate gate;
  gate.name = std::move(name);
  gate.command = std::move(command);
  gate.when = when;
  gate.timeout = timeout;
  gate.after = std::move(after);
  return gate;
}

std::optional<Found> DetectCMake(const fs::path& root) {
  if (!IsFile(root / "CMakeLists.txt")) return std::nullopt;
  Found found{"cmake", "CMake (CMakeLists.txt)", {}, {}};
  found.gates.push_back(MakeGate("build", "cmake -S . -B build\ncmake --build build -j " + Jobs(),
                                 GateWhen::kEachStep, seconds(900)));
  std::string text = ReadFile(root / "CMakeLists.txt");
  if (text.find("enable_testing") != std::string::npos ||
      text.find("include(CTest)") != std::string::npos ||
      text.find("add_test") != std::string::npos) {
    found.label = "CMake/CTest (CMakeLists.txt)";
    found.gates.push_back(MakeGate("test",
                                   "ctest --test-dir build --output-on-failure -j " + Jobs(),
                                   GateWhen::kFinal, seconds(1200), {"build"}));
  }
  return found;
}

// True when the makefile text defines `target` as a rule ("test:" at a line start).
bool HasMakeTarget(const std::string& text, const std::string& target) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(target)) continue;
    size_t i = target.size();
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == ':' && (i + 1 == line.size() || line[i + 1] != '=')) {
      return true;
    }
  }
  return false;
}

std::optional<Found> DetectMake(const fs::path& root) {
  for (const char* name : {"GNUmakefile", "makefile", "Makefile"}) {
    if (!IsFile(root / name)) continue;
    Found found{"make", std::string("make (") + name + ")", {}, {}};
    found.gates.push_back(MakeGate("build", "make -j " + Jobs(), GateWhen::kEachStep, seconds(900)));
    std::string text = ReadFile(root / name);
    for (const char* target : {"test", "check"}) {
      if (HasMakeTarget(text, target)) {
        found.gates.push_back(MakeGate("test", std::string("make ") + target, GateWhen::kFinal,
                                       seconds(1200), {"build"}));
        break;
      }
    }
    return found;
  }
  return std::nullopt;
}

std::optional<Found> DetectNpm(const fs::path& root) {
  if (!IsFile(root / "package.json")) return std::nullopt;
  std::string tool = "npm";
  if (IsFile(root / "pnpm-lock.yaml")) tool = "pnpm";
  else if (IsFile(root / "yarn.lock")) tool = "yarn";
  Found found{"npm", tool + " (package.json)", {}, {}};
  nlohmann::json scripts;
  try {
    auto json = nlohmann::json::parse(ReadFile(root / "package.json"));
    if (json.is_object() && json.contains("scripts") && json["scripts"].is_object()) {
      scripts = json["scripts"];
    }
  } catch (const nlohmann::json::exception&) {
    found.note = "package.json could not be parsed, so its scripts were not used";
    return found;
  }
  auto has = [&](const char* name) {
    return scripts.is_object() && scripts.contains(name) && scripts[name].is_string();
  };
  if (has("build")) {
    found.gates.push_back(
        MakeGate("build", tool + " run build", GateWhen::kEachStep, seconds(600)));
  }
  if (has("lint")) {
    found.gates.push_back(MakeGate("lint", tool + " run lint", GateWhen::kEachStep, seconds(300)));
  }
  // `npm init` writes a placeholder test script that always fails.
  if (has("test") &&
      scripts["test"].get<std::string>().find("no test specified") == std::string::npos) {
    std::vector<std::string> after;
    if (has("build")) after.push_back("build");
    found.gates.push_back(
        MakeGate("test", tool + " test", GateWhen::kFinal, seconds(900), std::move(after)));
  }
  if (found.gates.empty()) found.note = "package.json has no build, lint or test script";
  return found;
}

bool Contains(const fs::path& file, const char* needle) {
  return IsFile(file) && ReadFile(file).find(needle) != std::string::npos;
}

bool HasPythonTests(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 3) it.disable_recursion_pending();
    std::string name = it->path().filename().string();
    if (name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))) {
      return true;
    }
  }
  return false;
}

std::optional<Found> DetectPytest(const fs::path& root) {
  std::string why;
  if (IsFile(root / "pytest.ini")) why = "pytest.ini";
  else if (Contains(root / "pyproject.toml", "[tool.pytest")) why = "pyproject.toml";
  else if (Contains(root / "setup.cfg", "[tool:pytest]")) why = "setup.cfg";
  else if (Contains(root / "tox.ini", "[pytest]")) why = "tox.ini";
  else if (HasPythonTests(root / "tests")) why = "tests/";
  else if (HasPythonTests(root / "test")) why = "test/";
  if (why.empty()) return std::nullopt;
  Found found{"pytest", "pytest (" + why + ")", {}, {}};
  // Python has no compile step, so the tests are the per-step check; -x stops
  // at the first failure to keep each step's feedback fast.
  found.gates.push_back(
      MakeGate("test", "python3 -m pytest -q -x", GateWhen::kEachStep, seconds(600)));
  return found;
}

std::optional<Found> DetectCargo(const fs::path& root) {
  if (!IsFile(root / "Cargo.toml")) return std::nullopt;
  Found found{"cargo", "cargo (Cargo.toml)", {}, {}};
  found.gates.push_back(MakeGate("build", "cargo build", GateWhen::kEachStep, seconds(900)));
  found.gates.push_back(
      MakeGate("test", "cargo test", GateWhen::kFinal, seconds(1200), {"build"}));
  return found;
}

std::optional<Found> DetectGo(const fs::path& root) {
  if (!IsFile(root / "go.mod")) return std::nullopt;
  Found found{"go", "Go (go.mod)", {}, {}};
  found.gates.push_back(MakeGate("build", "go build ./...", GateWhen::kEachStep, seconds(600)));
  found.gates.push_back(
      MakeGate("test", "go test ./...", GateWhen::kFinal, seconds(900), {"build"}));
  return found;
}

}  // namespace

Detection DetectGates(const std::filesystem::path& workspace) {
  std::vector<Found> found;
  auto add = [&](std::optional<Found> f) {
    if (f) found.push_back(std::move(*f));
  };
  add(DetectCMake(workspace));
  if (found.empty()) add(DetectMake(workspace));  // in-source CMake builds leave a Makefile
  add(DetectNpm(workspace));
  add(DetectPytest(workspace));
  add(DetectCargo(workspace));
  add(DetectGo(workspace));

  Detection detection;
  if (found.empty()) {
    detection.description =
        "No build system detected (looked for CMakeLists.txt, Makefile, package.json, pytest "
        "configuration or tests/, Cargo.toml, go.mod): edits will not be verified. Write "
        "verify.md to add gates.";
    return detection;
  }
  size_t systems_with_gates = 0;
  for (const Found& f : found) systems_with_gates += f.gates.empty() ? 0 : 1;
  const bool prefix = systems_with_gates > 1;
  for (const Found& f : found) {
    if (!detection.description.empty()) detection.description += " ";
    detection.description += "Detected " + f.label;
    std::vector<Gate> gates = f.gates;
    if (prefix) {
      for (Gate& gate : gates) {
        gate.name = f.system + "-" + gate.name;
        for (std::string& dep : gate.after) dep = f.system + "-" + dep;
      }
    }
    if (!gates.empty()) {
      detection.description += ": ";
      for (size_t i = 0; i < gates.size(); ++i) {
        if (i > 0) detection.description += ", ";
        detection.description += gates[i].name + " (" + std::string(GateWhenName(gates[i].when)) + ")";
      }
    }
    detection.description += ".";
    if (!f.note.empty()) detection.description += " Note: " + f.note + ".";
    for (Gate& gate : gates) detection.gates.push_back(std::move(gate));
  }
  return detection;
}

}  // namespace tandem::verify

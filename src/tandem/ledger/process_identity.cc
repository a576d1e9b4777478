#include "tandem/ledger/process_identity.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace tandem::ledger {
namespace {

const std::string& BootId() {
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    std::getline(in, line);
    return line;
  }();
  return id;
}

// Reads state (field 3) and starttime (field 22) of /proc/<pid>/stat. The
// command name (field 2) may contain spaces and parentheses, so parsing
// starts after the last ')'.
bool ReadStat(int64_t pid, char* state, int64_t* start_ticks) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = content.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(content.substr(close + 1));
  std::string field;
  for (int index = 3; index <= 22 && fields >> field; ++index) {
    if (index == 3) *state = field.empty() ? '?' : field[0];
    if (index == 22) {
      *start_ticks = std::strtoll(field.c_str(), nullptr, 10);
      return true;
    }
  }
  return false;
}

}  // namespace

ProcessIdentity ProcessIdentity::Current() { return Of(getpid()); }

ProcessIdentity ProcessIdentity::Of(int64_t pid) {
  ProcessIdentity id;
  id.pid = pid;
  id.boot_id = BootId();
  char state = '?';
  if (!ReadStat(pid, &state, &id.start_ticks)) id.start_ticks = 0;
  return id;
}

bool ProcessIdentity::IsAlive() const {
  if (pid <= 0) return false;
  if (!boot_id.empty() && !BootId().empty() && boot_id != BootId()) return false;
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  char state = '?';
  int64_t now_ticks = 0;
  if (!ReadStat(pid, &state, &now_ticks)) return true;  // no /proc: trust kill()
  if (state == 'Z' || state == 'X') return false;       // exited, not yet reaped
  return start_ticks == 0 || start_ticks == now_ticks;
}

}  // namespace tandem::ledger

// libFuzzer target for progress.md: reading (ReadOutcomes), extraction for a
// task's context (ExtractForTask) and the updates tandem makes to a file a
// person may have edited (RecordOutcome, AppendNote, SetNext).
//
// Input: byte 0 picks the update and the task, byte 1 the outcome's state
// and retries and the extract budget; the rest is "<progress.md>\x01<text>"
// where <text> is the summary, note or Next item. Properties checked beyond
// "no crash, no sanitizer report, no exception":
//   - after RecordOutcome, ReadOutcomes finds that task's state, retries and
//     summary (lines trimmed, blank ones dropped, key shapes redacted: every
//     write passes the file through Redactor::Apply), and ExtractForTask with
//     a generous budget shows its outcome;
//   - an update leaves the outcomes of every other task as they were (after
//     the same redaction);
//   - ExtractForTask stays within its budget and keeps valid UTF-8 valid.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/base/redact.h"
#include "tandem/memory/progress_md.h"

namespace {

namespace fs = std::filesystem;
using namespace tandem::memory;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  tandem::fuzz::Fail("progress_fuzz", what, detail);
}

const fs::path& ProgressPath() {
  static const fs::path path = tandem::fuzz::MakeTempDir("tandem-progress-fuzz") / "progress.md";
  return path;
}

std::string ReadBack() {
  std::ifstream in(ProgressPath(), std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// What FormatEntry keeps of a multi-line text: trimmed lines, blanks dropped.
std::string Normalized(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    size_t b = line.find_first_not_of(kSpace);
    if (b != std::string_view::npos) {
      if (!out.empty()) out += '\n';
      out += line.substr(b, line.find_last_not_of(kSpace) - b + 1);
    }
    pos = end + 1;
  }
  return out;
}

std::string Describe(const TaskOutcome& o) {
  return o.id + " " + std::string(tandem::protocol::Name(o.state)) + " retries=" +
         std::to_string(o.retries) + " summary=[" + o.summary + "]";
}

// Outcomes of tasks other than `id`, in file order.
std::vector<std::string> Others(std::string_view text, const std::string& id) {
  std::vector<std::string> out;
  for (const TaskOutcome& o : ReadOutcomes(text)) {
    if (o.id != id) out.push_back(Describe(o));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t op = data[0] % 4;
  const std::string id = (data[0] >> 2) % 3 == 0 ? "T1" : (data[0] >> 2) % 3 == 1 ? "T2" : "T10";
  const uint8_t params = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  size_t sep = rest.find('\x01');
  std::string_view before = rest.substr(0, sep);
  std::string_view text = sep == std::string_view::npos ? "" : rest.substr(sep + 1);

  // Reading and extraction of the text as given.
  const size_t budget = params * 8u;
  std::string extract = ExtractForTask(before, id, budget, {"T2"});
  if (extract.size() > budget) Fail("extract over budget", std::to_string(extract.size()));
  if (tandem::fuzz::IsValidUtf8(before) && !tandem::fuzz::IsValidUtf8(extract)) {
    Fail("extract broke UTF-8", extract);
  }

  // One update of the file holding `before` (op 3: the file is missing).
  if (op == 3) {
    std::error_code ec;
    fs::remove(ProgressPath(), ec);
  } else {
    std::ofstream out(ProgressPath(), std::ios::binary | std::ios::trunc);
    out.write(before.data(), static_cast<std::streamsize>(before.size()));
  }
  const std::string original = op == 3 ? EmptyProgress() : std::string(before);
  TaskOutcome outcome;
  outcome.id = id;
  outcome.title = "Fuzzed task";
  outcome.state = static_cast<TaskState>(params % 6);
  outcome.retries = (params >> 3) % 4;
  outcome.summary = std::string(text);
  tandem::Status status;
  switch (op) {
    case 0:
    case 3:
      status = RecordOutcome(ProgressPath(), outcome);
      break;
    case 1:
      status = AppendNote(ProgressPath(), (params & 1) ? id : "", NoteKind::kFailure, text);
      break;
    case 2:
      status = SetNext(ProgressPath(), {std::string(text), "T9: later"});
      break;
  }
  if (!status.ok()) Fail("update failed", status.ToString());
  const std::string after = ReadBack();

  if (Others(after, id) != Others(tandem::Redactor::Apply(original), id)) {
    Fail("update changed another task's outcome", "before:\n" + original + "\nafter:\n" + after);
  }
  if (op == 0 || op == 3) {
    const TaskOutcome* found = nullptr;
    std::vector<TaskOutcome> outcomes = ReadOutcomes(after);
    for (const TaskOutcome& o : outcomes) {
      if (o.id == id) {
        found = &o;
        break;
      }
    }
    if (found == nullptr) Fail("recorded outcome not read back", after);
    TaskOutcome expected = outcome;
    expected.summary = Normalized(tandem::Redactor::Apply(Normalized(outcome.summary)));
    if (expected.summary.empty()) expected.summary = found->summary;  // a blank one is not written
    if (Describe(*found) != Describe(expected)) {
      Fail("recorded outcome read back differently",
           Describe(expected) + "\nread: " + Describe(*found) + "\nfile:\n" + after);
    }
    std::string own = ExtractForTask(after, id, 1 << 20);
    if (own.find("- outcome: " + std::string(tandem::protocol::Name(outcome.state))) == std::string::npos) {
      Fail("extract misses the task's outcome", own + "\nfile:\n" + after);
    }
  }
  return 0;
}

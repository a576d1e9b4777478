#include "tandem/cli/live_input.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace tandem::cli {

orchestrator::ApprovalAnswer ParseApprovalLine(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  size_t begin = line.find_first_not_of(" \t");
  line = begin == std::string::npos ? "" : line.substr(begin);
  orchestrator::ApprovalAnswer answer;
  size_t word_end = line.find_first_of(" \t:,");
  std::string word = line.substr(0, word_end);
  for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  answer.approved = word == "y" || word == "yes";
  if (word_end != std::string::npos) {
    size_t rest = line.find_first_not_of(" \t:,", word_end);
    if (rest != std::string::npos) answer.reason = line.substr(rest);
  }
  return answer;
}

std::string ShowControlChars(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\n  | ";  // every line of a multi-line command stays visibly part of it
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[++i]));  // C1 controls
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string ApprovalPrompt(const orchestrator::OpenApproval& approval) {
  const orchestrator::ApprovalRequest& request = approval.request;
  std::string question = request.command.empty()
                             ? fmt::format("Run task {}?", request.task_id)
                             : fmt::format("Run this command for task {}?", request.task_id);
  return fmt::format(
      "\n── approval #{} needed ─────────────────────────\n{}\n\nwhy: {}\n\n{} [y/N] (anything "
      "after the answer is recorded as the reason; with several prompts open, answer "
      "`y {}` or `n {}`) ",
      approval.id, ShowControlChars(request.what), ShowControlChars(request.why), question,
      approval.id, approval.id);
}

namespace {

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Splits off the first word of `s` (blank-separated); `s` keeps the rest, trimmed.
std::string TakeWord(std::string_view& s) {
  s = Trim(s);
  size_t end = s.find_first_of(" \t");
  std::string word(s.substr(0, end));
  s = end == std::string_view::npos ? std::string_view() : Trim(s.substr(end));
  return word;
}

std::optional<int64_t> ApprovalNumber(std::string_view word) {
  if (!word.empty() && word[0] == '#') word.remove_prefix(1);
  if (word.empty() || word.size() > 12 || word.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::stoll(std::string(word));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string OpenIds(const std::vector<orchestrator::OpenApproval>& open) {
  std::string out;
  for (const auto& a : open) out += (out.empty() ? "#" : ", #") + std::to_string(a.id);
  return out;
}

}  // namespace

Result<std::optional<orchestrator::Op>> ParseLiveLine(
    std::string_view line, const std::vector<orchestrator::OpenApproval>& open) {
  using protocol::OpKind;
  line = Trim(line);
  if (line.empty()) return std::optional<orchestrator::Op>();
  orchestrator::Op op;
  op.source = "terminal";
  if (line[0] == '/') {
    std::string_view rest = line.substr(1);
    std::string command = Lower(TakeWord(rest));
    if (command == "approve" || command == "deny") {
      std::optional<int64_t> id = ApprovalNumber(TakeWord(rest));
      if (!id) return InvalidArgument("/" + command + " needs the approval's number, e.g. /" + command + " 3");
      op.kind = command == "approve" ? OpKind::kApprove : OpKind::kDeny;
      op.approval_id = *id;
      op.text = std::string(rest);
    } else if (command == "cancel") {
      op.kind = OpKind::kCancel;
      op.task_id = TakeWord(rest);
      if (op.task_id.empty() || !rest.empty()) return InvalidArgument("/cancel needs one task id, e.g. /cancel T3");
    } else if (command == "steer") {
      op.kind = OpKind::kSteer;
      op.task_id = TakeWord(rest);
      op.text = std::string(rest);
      if (op.task_id.empty() || op.text.empty()) return InvalidArgument("/steer needs a task id and a note, e.g. /steer T2 keep the old API");
    } else if (command == "stop") {
      op.kind = OpKind::kInterrupt;
    } else {
      return InvalidArgument("unknown command /" + command +
                             " (/approve ID, /deny ID, /steer TASK note, /cancel TASK, /stop)");
    }
    return std::optional<orchestrator::Op>(op);
  }
  if (open.empty()) {
    op.kind = OpKind::kSteer;
    op.text = std::string(line);
    return std::optional<orchestrator::Op>(op);
  }
  // An answer: "y [ID] [reason]" / "n [ID] [reason]"; with one prompt open
  // the number may be left out, and as ever only y/yes approves.
  std::string_view rest = line;
  std::string first = TakeWord(rest);
  std::string_view after_number = rest;
  std::optional<int64_t> id = ApprovalNumber(TakeWord(after_number));
  if (id) rest = after_number;
  if (!id) {
    if (open.size() > 1) {
      return InvalidArgument("approvals " + OpenIds(open) +
                             " are open: answer with the number, e.g. `y " +
                             std::to_string(open.front().id) + "` or `n " +
                             std::to_string(open.front().id) + " reason`");
    }
    id = open.front().id;
  }
  orchestrator::ApprovalAnswer answer =
      ParseApprovalLine(first + (rest.empty() ? "" : " " + std::string(rest)));
  op.kind = answer.approved ? OpKind::kApprove : OpKind::kDeny;
  op.approval_id = *id;
  op.text = answer.reason;
  return std::optional<orchestrator::Op>(op);
}

bool LiveInput::ShouldRead(int fd) {
  if (!::isatty(fd)) return false;
  pid_t fg = ::tcgetpgrp(fd);
  return fg >= 0 && fg == ::getpgrp();
}

LiveInput::LiveInput(int fd, std::FILE* prompt_out, orchestrator::LiveOps& ops)
    : fd_(fd), prompt_out_(prompt_out), ops_(ops) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) return;  // no reader: approvals stay unanswerable
  watch_ = ops_.Watch([this](const orchestrator::OpenApproval& opened) {
    // Typeahead (a steer note being typed when the prompt appears) must not
    // answer it: only a line typed after the prompt counts.
    ::tcflush(fd_, TCIFLUSH);
    Show(ApprovalPrompt(opened));
  });
  reader_ = std::thread([this] { Read(); });
}

LiveInput::~LiveInput() {
  if (watch_ != 0) ops_.Unwatch(watch_);
  if (wake_[1] >= 0) {
    char byte = 1;
    [[maybe_unused]] auto ignored = ::write(wake_[1], &byte, 1);
  }
  if (reader_.joinable()) reader_.join();
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void LiveInput::Show(const std::string& text) {
  MutexLock lock(out_mu_);
  fmt::print(prompt_out_, "{}", text);
  std::fflush(prompt_out_);
}

void LiveInput::Read() {
  std::string pending;
  char buf[1024];
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN)) break;
    if (fds[0].revents == 0) continue;
    if (!ShouldRead(fd_)) {
      // Sent to the background (Ctrl-Z, bg): reading now would stop the whole
      // run with SIGTTIN. The typing is the shell's; look again later.
      pollfd wake{wake_[0], POLLIN, 0};
      if (::poll(&wake, 1, 500) > 0) break;
      continue;
    }
    ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;  // EOF: the terminal is gone
    pending.append(buf, static_cast<size_t>(got));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      Line(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  // Nobody is left to answer: open and later approvals end as waiting.
  ops_.Unwatch(watch_);
}

void LiveInput::Line(const std::string& line) {
  auto op = ParseLiveLine(line, ops_.Pending());
  if (!op) {
    Show("tandem: " + op.error().message() + "\n");
    return;
  }
  if (!*op) return;
  orchestrator::OpResult result = ops_.Submit(std::move(**op));
  if (!result.status.ok()) Show("tandem: " + result.status.message() + "\n");
}

}  // namespace tandem::cli

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

std::string ApprovalPrompt(const orchestrator::ApprovalRequest& request) {
  std::string question = request.command.empty()
                             ? fmt::format("Run task {}?", request.task_id)
                             : fmt::format("Run this command for task {}?", request.task_id);
  return fmt::format(
      "\n── approval needed ─────────────────────────────\n{}\n\nwhy: {}\n\n{} [y/N] (anything "
      "after the answer is recorded as the reason) ",
      ShowControlChars(request.what), ShowControlChars(request.why), question);
}

bool LiveInput::ShouldRead(int fd) {
  if (!::isatty(fd)) return false;
  pid_t fg = ::tcgetpgrp(fd);
  return fg >= 0 && fg == ::getpgrp();
}

LiveInput::LiveInput(int fd, std::FILE* prompt_out, std::function<void(const std::string&)> on_note)
    : fd_(fd), prompt_out_(prompt_out), on_note_(std::move(on_note)) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    closed_ = true;
    return;
  }
  reader_ = std::thread([this] { Read(); });
}

LiveInput::~LiveInput() {
  if (wake_[1] >= 0) {
    char byte = 1;
    [[maybe_unused]] auto ignored = ::write(wake_[1], &byte, 1);
  }
  if (reader_.joinable()) reader_.join();
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
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
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

void LiveInput::Line(std::string line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (prompt_open_) {
      answer_ = std::move(line);
      cv_.notify_all();
      return;
    }
  }
  if (line.find_first_not_of(" \t") == std::string::npos) return;
  if (on_note_) on_note_(line);
}

Result<orchestrator::ApprovalAnswer> LiveInput::Ask(const orchestrator::ApprovalRequest& request) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Unavailable("the terminal is closed");
  answer_.reset();
  prompt_open_ = true;
  // Typeahead (a steer note being typed when the prompt appears) must not
  // answer it: only a line typed after the prompt counts.
  ::tcflush(fd_, TCIFLUSH);
  fmt::print(prompt_out_, "{}", ApprovalPrompt(request));
  std::fflush(prompt_out_);
  cv_.wait(lock, [this] { return answer_.has_value() || closed_ || cancelled_; });
  prompt_open_ = false;
  if (!answer_)
    return Unavailable(cancelled_ ? "interrupted at the prompt" : "the terminal closed");
  std::string line = std::move(*answer_);
  answer_.reset();
  return ParseApprovalLine(std::move(line));
}

void LiveInput::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  cv_.notify_all();
}

}  // namespace tandem::cli

#include "tandem/agent/compaction.h"

#include <map>

#include <fmt/format.h>

#include "tandem/agent/prompt.h"

namespace tandem::agent {
namespace {

int64_t MessageTokens(const protocol::Message& m) {
  int64_t n = 4 + EstimateTokens(m.text);
  for (const auto& call : m.tool_calls) n += 8 + EstimateTokens(call.arguments_json);
  return n;
}

int64_t Total(const std::vector<protocol::Message>& messages) {
  int64_t n = 0;
  for (const auto& m : messages) n += MessageTokens(m);
  return n;
}

constexpr size_t kElideAbove = 200;  // bytes: short results are kept whole
constexpr size_t kRecentCalls = 5;  // calls listed by name in a fold summary
constexpr int64_t kSummaryTokens = 250;  // upper bound of a fold summary's size

}  // namespace

CompactionStats CompactHistory(std::vector<protocol::Message>& messages, int64_t budget_tokens,
                               size_t keep_recent) {
  CompactionStats stats;
  stats.tokens_before = Total(messages);
  int64_t total = stats.tokens_before;
  if (total <= budget_tokens || messages.size() <= keep_recent + 1) {
    stats.tokens_after = total;
    return stats;
  }
  size_t protected_from = messages.size() - keep_recent;

  // 1. Elide old tool output, oldest first.
  for (size_t i = 1; i < protected_from && total > budget_tokens; ++i) {
    protocol::Message& m = messages[i];
    if (m.role != protocol::Role::kTool || m.text.size() <= kElideAbove) continue;
    int64_t before = MessageTokens(m);
    std::string head = m.text.substr(0, 120);
    // Keep UTF-8 whole: drop a trailing partial sequence.
    while (!head.empty() && (static_cast<unsigned char>(head.back()) & 0xC0) == 0x80) head.pop_back();
    if (!head.empty() && (static_cast<unsigned char>(head.back()) & 0x80)) head.pop_back();
    m.text = fmt::format("{}\n[output elided by tandem to save context: {} bytes]", head,
                         m.text.size());
    total += MessageTokens(m) - before;
    stats.elided_results++;
  }

  // 2. Fold the oldest turns into one summary message. The fold ends just
  // before an assistant message, so no tool result loses its call.
  if (total > budget_tokens) {
    size_t end = 1;
    int64_t freed = 0;
    for (size_t i = 1; i < protected_from; ++i) {
      freed += MessageTokens(messages[i]);
      bool boundary = i + 1 < messages.size() && messages[i + 1].role == protocol::Role::kAssistant;
      if (boundary) end = i + 1;
      if (boundary && total - freed + kSummaryTokens <= budget_tokens) break;
    }
    if (end > 1) {
      // A bounded, mechanical summary: counts per tool, failures, and the
      // last few calls (what the model most likely still needs).
      std::map<std::string, int> counts;
      std::vector<std::string> recent;
      int failures = 0;
      for (size_t i = 1; i < end; ++i) {
        const protocol::Message& m = messages[i];
        if (m.role == protocol::Role::kAssistant) {
          for (const auto& call : m.tool_calls) {
            counts[call.name]++;
            recent.push_back(fmt::format("{} {}", call.name, call.arguments_json.substr(0, 80)));
          }
        } else if (m.role == protocol::Role::kTool && m.is_error) {
          failures++;
        }
      }
      std::string summary = "[Earlier steps, summarized by tandem to save context]\n";
      for (const auto& [name, count] : counts) summary += fmt::format("{} x{}; ", name, count);
      summary += fmt::format("{} failed calls.\nLast of them:\n", failures);
      size_t first = recent.size() > kRecentCalls ? recent.size() - kRecentCalls : 0;
      for (size_t i = first; i < recent.size(); ++i) summary += "- " + recent[i] + "\n";
      stats.folded_messages = static_cast<int>(end - 1);
      messages.erase(messages.begin() + 1, messages.begin() + end);
      // The summary rides on the first message after the fold when that is
      // a user turn; otherwise it becomes its own user message.
      messages.insert(messages.begin() + 1, protocol::Message::User(summary));
      if (messages.size() > 2 && messages[2].role == protocol::Role::kUser) {
        messages[1].text += "\n" + messages[2].text;
        messages.erase(messages.begin() + 2);
      }
      total = Total(messages);
    }
  }
  stats.tokens_after = total;
  return stats;
}

}  // namespace tandem::agent

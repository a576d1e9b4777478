// Script builders shared by the orchestrator scenarios (tandem plan / run /
// resume / steer / status). Executor turns are told apart by a marker word
// that only their task's `do` text holds; planner turns by their system
// prompt.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {

// An executor turn of the task whose `do` text holds `marker`.
inline nlohmann::json TaskTurn(const std::string& marker, int assistant_turns,
                               std::vector<nlohmann::json> calls) {
  nlohmann::json turn = Turn(assistant_turns, std::move(calls));
  turn["when"]["any_message_contains"] = marker;
  return turn;
}

// `tandem plan`'s request (the planner's plan prompt).
inline nlohmann::json PlannerTurn(const std::string& text) {
  return {{"when", {{"system_contains", "Write plan.md for the goal"}}}, {"text", text}};
}

// A re-plan request after a failed task.
inline nlohmann::json ReplanTurn(const std::string& text) {
  return {{"when", {{"system_contains", "A task of your plan failed"}}}, {"text", text}};
}

// write_file `path` with `content`, then finish.
inline std::vector<nlohmann::json> WriteThenFinish(const std::string& marker,
                                                   const std::string& path,
                                                   const std::string& content) {
  return {TaskTurn(marker, 0, {Call("write_file", {{"path", path}, {"content", content}})}),
          TaskTurn(marker, 1, {Call("finish", {{"summary", "wrote " + path}})})};
}

// A plan.md task block.
inline std::string TaskBlock(const std::string& id, const std::string& title,
                             const std::string& what, const std::string& extra = "",
                             const std::string& after = "—", const std::string& mark = " ") {
  return "- [" + mark + "] " + id + ": " + title + "\n  - do: " + what + "\n" + extra +
         "  - after: " + after + "\n\n";
}

// How many recorded requests hold `text` in some message and have
// `assistant_turns` assistant messages.
inline int CountRequests(const std::vector<nlohmann::json>& requests, const std::string& text,
                         int assistant_turns) {
  int n = 0;
  for (const auto& r : requests) {
    const auto& body = r["body"];
    if (!body.is_object() || !body.contains("messages")) continue;
    int assistants = 0;
    bool holds = false;
    for (const auto& m : body["messages"]) {
      if (m.value("role", "") == "assistant") assistants++;
      if (m.dump().find(text) != std::string::npos) holds = true;
    }
    if (holds && assistants == assistant_turns) n++;
  }
  return n;
}

}  // namespace tandem::e2e

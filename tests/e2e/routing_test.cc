// Routing by measured speed end to end (issue 11): a role names a pool of
// two models, each served by its own scripted model server at its own
// speed, and `tandem do` / `tandem plan` send each request to the member
// predicted fastest from measured figures (the ledger's model_calls, then
// each reply). The assertions are on which server recorded which request:
// the speeds differ by 10x or more, so the routing follows from them on a
// busy machine too; nothing here times anything.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

struct Speed {
  int ttft_ms = 5;
  int tokens_per_second = 20000;
  int prefill_tokens_per_second = 0;  // 0: the server adds no prefill time
};

class RoutingTest : public E2eTest {
 protected:
  // Starts a model server for provider `name` with `script` at `speed`.
  testing::ModelServerProcess& StartMember(const std::string& name, const json& script,
                                           Speed speed) {
    testing::ModelServerOptions options;
    options.script_json = script.dump();
    options.ttft_ms = speed.ttft_ms;
    options.tokens_per_second = speed.tokens_per_second;
    options.extra_args = {"--prefill-tokens-per-second",
                          std::to_string(speed.prefill_tokens_per_second)};
    auto started = testing::ModelServerProcess::Start(options);
    EXPECT_TRUE(started.has_value()) << started.error().ToString();
    if (!started) std::abort();
    servers_.push_back({name, std::move(*started)});
    return *servers_.back().second;
  }

  // The user's config: a provider and a model per server, the pool "duo" of
  // them in `order`, every role on the pool.
  void WritePoolConfig(const std::vector<std::string>& order) {
    std::string toml;
    for (const auto& [name, server] : servers_) {
      toml += "[providers." + name + "]\nwire = \"openai\"\nbase_url = \"" + server->base_url() +
              "\"\n\n[models." + name + "]\nprovider = \"" + name + "\"\nid = \"" + name +
              "-model\"\nprice_input = 1.0\nprice_output = 2.0\n\n";
    }
    toml += "[pools.duo]\nmodels = [";
    for (size_t i = 0; i < order.size(); ++i) toml += (i ? ", \"" : "\"") + order[i] + "\"";
    toml += "]\n\n[roles]\nexecutor = \"duo\"\nplanner = \"duo\"\nreviewer = \"duo\"\n"
            "\n[review]\npolicy = \"never\"\n";
    WriteUserConfig(toml);
  }

  size_t Count(const std::string& name) {
    for (const auto& [n, server] : servers_) {
      if (n == name) return server->Requests().size();
    }
    ADD_FAILURE() << "no server " << name;
    return 0;
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<testing::ModelServerProcess>>> servers_;
};

// Five write_file steps (files `prefix`-N.txt), then finish, for the task
// whose text holds `marker`.
std::vector<json> FiveStepsThenFinish(const std::string& marker, const std::string& prefix,
                                      const json& faults = nullptr) {
  std::vector<json> turns;
  for (int i = 0; i < 5; ++i) {
    json turn = TaskTurn(marker, i,
                         {Call("write_file", {{"path", prefix + "-" + std::to_string(i) + ".txt"},
                                              {"content", "step " + std::to_string(i) + "\n"}})});
    if (!faults.is_null()) turn["faults"] = faults;
    turns.push_back(turn);
  }
  json finish = TaskTurn(marker, 5, {Call("finish", {{"summary", "five files"}})});
  if (!faults.is_null()) finish["faults"] = faults;
  turns.push_back(finish);
  return turns;
}

TEST_F(RoutingTest, TheFasterMemberGetsTheTrafficAndASlowedDownOneLosesIt) {
  MakePassingRepo();
  // "quick" answers phase two with a 4 s stall after its first token.
  json stall = json::array({{{"kind", "stall"}, {"after_tokens", 1}, {"stall_ms", 4000},
                             {"times", 100}}});
  // Phase two's turns come first: nothing of phase one's can answer them.
  std::vector<json> quick_turns = FiveStepsThenFinish("[phase-two]", "b", stall);
  for (json& t : FiveStepsThenFinish("[phase-one]", "a")) quick_turns.push_back(t);
  std::vector<json> slow_turns = FiveStepsThenFinish("[phase-two]", "b");
  for (json& t : FiveStepsThenFinish("[phase-one]", "a")) slow_turns.push_back(t);
  StartMember("slow", Script(slow_turns), {.ttft_ms = 250, .tokens_per_second = 1000});
  StartMember("quick", Script(quick_turns), {.ttft_ms = 5, .tokens_per_second = 20000});
  WritePoolConfig({"slow", "quick"});  // pool order puts the slow one first

  TandemRun first = Do("write the files [phase-one]");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  // Six requests: the first goes to "slow" (unmeasured, first in the pool),
  // the second to "quick" (unmeasured), the other four to the faster one.
  EXPECT_EQ(Count("slow"), 1u);
  EXPECT_EQ(Count("quick"), 5u);
  // Each call is priced and recorded as the model that served it.
  EXPECT_EQ(LedgerValue("SELECT COUNT(*) FROM model_calls WHERE model = 'slow-model'"), "1");
  EXPECT_EQ(LedgerValue("SELECT COUNT(*) FROM model_calls WHERE model = 'quick-model'"), "5");
  EXPECT_EQ(LedgerValue("SELECT COUNT(DISTINCT provider) FROM model_calls"), "2");
  int served_by_quick = 0;
  for (const json& e : first.Events("model_call_finished")) {
    served_by_quick += e.value("model", "") == "quick";
  }
  EXPECT_EQ(served_by_quick, 5) << first.Describe();

  // A new process: the ledger's figures send its first request to "quick",
  // which now stalls; measured slow, it loses the rest to "slow".
  TandemRun second = Do("write the files [phase-two]");
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_EQ(Count("quick"), 5u + 1u);
  EXPECT_EQ(Count("slow"), 1u + 5u);

  // tandem models shows both measured and the executor's pick: "slow" now.
  TandemRun models = RunTandem({"models", "--json"});
  ASSERT_EQ(models.exit_code, 0) << models.Describe();
  json report = json::parse(models.out);
  bool executor_seen = false;
  for (const json& role : report["roles"]) {
    if (role["role"] != "executor") continue;
    executor_seen = true;
    EXPECT_EQ(role["name"], "duo");
    EXPECT_TRUE(role["pool"].get<bool>());
    EXPECT_EQ(role["pick"], "slow") << models.out;
  }
  EXPECT_TRUE(executor_seen) << models.out;
  int measured = 0;
  for (const json& model : report["models"]) {
    if (model["name"] != "quick" && model["name"] != "slow") continue;
    ASSERT_FALSE(model["measured"].is_null()) << models.out;
    EXPECT_EQ(model["measured"]["samples"], 6) << models.out;
    EXPECT_GT(model["measured"]["decode_tokens_per_s"].get<double>(), 0) << models.out;
    ++measured;
  }
  EXPECT_EQ(measured, 2);
}

TEST_F(RoutingTest, PromptHeavyStepsGoToTheFastPrefillAndOutputHeavyStepsToTheFastDecode) {
  MakePassingRepo();
  // A 24 KiB file: reading it makes the executor's next prompt ~6,000 tokens.
  std::string big;
  for (int i = 0; i < 400; ++i) big += "line " + std::to_string(i) + " of the big file, padding.\n";
  WriteFile("big.txt", big);
  CommitAll("big");
  // The planner writes a long plan: an output-heavy step (~400 tokens).
  std::string plan = "```markdown\n# Plan: Docs\n\n";
  for (int i = 1; i <= 4; ++i) {
    std::string id = "T" + std::to_string(i);
    plan += TaskBlock(id, "Document part " + id,
                      "Write docs for part " + id + " covering its inputs, outputs, errors, "
                      "limits and one worked example, in plain words, short sentences [" + id +
                          "]",
                      "  - accept: gates check\n");
  }
  plan += "```\n";
  std::vector<json> turns = {PlannerTurn(plan),
                             TaskTurn("[big]", 0, {Call("read_file", {{"path", "big.txt"}})}),
                             TaskTurn("[big]", 1, {Call("finish", {{"summary", "read it"}})})};
  // "prefill": prompts are cheap, output slow; "decode": the other way round.
  StartMember("prefill", Script(turns),
              {.ttft_ms = 5, .tokens_per_second = 150, .prefill_tokens_per_second = 400000});
  StartMember("decode", Script(turns),
              {.ttft_ms = 5, .tokens_per_second = 20000, .prefill_tokens_per_second = 4000});
  WritePoolConfig({"prefill", "decode"});

  // Measured first: each model plans once and reads the big file once.
  for (const char* model : {"prefill", "decode"}) {
    TandemRun planned = RunTandem({"plan", "--force", "--model", model, "Document the parts"});
    ASSERT_EQ(planned.exit_code, 0) << planned.Describe();
    TandemRun read = Do("read big.txt [big]", {"--model", model});
    ASSERT_EQ(read.exit_code, 0) << read.Describe();
  }
  size_t prefill_before = Count("prefill");
  size_t decode_before = Count("decode");
  ASSERT_EQ(prefill_before, 3u);
  ASSERT_EQ(decode_before, 3u);

  // Routed: the planner's output-heavy request goes to "decode"...
  TandemRun planned = RunTandem({"plan", "--force", "Document the parts again"});
  ASSERT_EQ(planned.exit_code, 0) << planned.Describe();
  EXPECT_EQ(Count("decode"), decode_before + 1);
  EXPECT_EQ(Count("prefill"), prefill_before);

  // ...and the executor's prompt-heavy requests to "prefill".
  TandemRun read = Do("read big.txt again [big]");
  ASSERT_EQ(read.exit_code, 0) << read.Describe();
  EXPECT_EQ(Count("prefill"), prefill_before + 2);
  EXPECT_EQ(Count("decode"), decode_before + 1);
  std::string last_prefill = LedgerValue(
      "SELECT model FROM model_calls WHERE role = 'executor' ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(last_prefill, "prefill-model");
}

}  // namespace
}  // namespace tandem::e2e

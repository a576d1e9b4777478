// A provider's rate limits end to end: a storm of 429s slows `tandem do` but
// does not fail it. Each 429 pauses the provider for its Retry-After (here in
// milliseconds, and as an HTTP date) and the request is retried without
// spending the provider's max_retries.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class RateLimitTest : public E2eTest {};

TEST_F(RateLimitTest, ATaskFinishesThroughAStormOf429s) {
  MakeSlugifyRepo();
  json edit = Turn(0, {Call("edit_file", {{"path", "slugify.sh"},
                                          {"old_text", "tr ' ' '-'"},
                                          {"new_text", "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'"}})});
  edit["faults"] = json::array({{{"kind", "http_429"}, {"times", 5}, {"retry_after_ms", 50}}});
  json finish = Finish(1, "slugify lowercases now");
  finish["faults"] = json::array({{{"kind", "http_429"}, {"times", 1}, {"retry_after_date_s", 1}}});
  // No retry after an error at all: the run can only finish if 429s are not
  // counted as errors.
  StartServer(Script({edit, finish}), "max_retries = 0\nmax_concurrent_requests = 1\n");

  TandemRun run = Do("make test.sh pass");

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(run.Finished().value("outcome", ""), "succeeded");
  std::vector<json> requests = Requests();
  ASSERT_EQ(requests.size(), 8u);  // 5 + 1 rate limited, 2 answered
  int limited = 0;
  for (const json& rq : requests) limited += rq["status"] == 429 ? 1 : 0;
  EXPECT_EQ(limited, 6);
  std::vector<json> restarts = run.Events("model_restarted");
  ASSERT_EQ(restarts.size(), 6u) << run.Describe();
  for (const json& r : restarts) EXPECT_EQ(r.value("reason", ""), "rate_limited") << r.dump();
}

}  // namespace
}  // namespace tandem::e2e

#include "tandem/ledger/migrations.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tandem/ledger/ledger.h"
#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::ManualClock;
using testing::OpenOrDie;
using testing::ReadFile;
using testing::TempDir;

TEST(Migrations, AreNumberedConsecutivelyFromOne) {
  int expected = 1;
  for (const Migration& m : Migrations()) EXPECT_EQ(m.version, expected++);
  EXPECT_EQ(CurrentSchemaVersion(), expected - 1);
}

TEST(Migrations, EmptyDatabaseIsMigratedToCurrentWithOneRowPerVersion) {
  TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "ledger.db";
  OpenOrDie(path, clock).reset();
  auto db = Db::Open(path, false);
  ASSERT_TRUE(db);
  auto version = SchemaVersion(**db);
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, CurrentSchemaVersion());
  auto rows = (*db)->QueryInt("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, CurrentSchemaVersion());
  auto applied_at = (*db)->QueryInt("SELECT MIN(applied_at) FROM schema_version");
  EXPECT_EQ(*applied_at, clock.now);
  for (const char* table : {"runs", "tasks", "steps", "model_calls", "tool_calls", "gate_runs",
                            "rollbacks", "approvals", "escalations", "steer_notes"}) {
    auto n = (*db)->QueryInt(std::string("SELECT COUNT(*) FROM sqlite_schema WHERE name = '") +
                             table + "'");
    EXPECT_EQ(*n, 1) << table;
  }
}

TEST(Migrations, VersionOneDatabaseIsUpgradedKeepingItsRows) {
  TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "ledger.db";
  {
    auto db = Db::Open(path, true);
    ASSERT_TRUE(db);
    ASSERT_TRUE(Migrate(**db, clock.now, /*target=*/1).ok());
    ASSERT_EQ(*SchemaVersion(**db), 1);
    // A run and step as a version-1 tandem wrote them.
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO runs (id, kind, goal, started_at, outcome, ended_at,"
                           " steps, cost_usd) VALUES ('old', 'do', 'fix', 5, 'succeeded', 9,"
                           " 1, 0.25);"
                           "INSERT INTO steps (run_id, n, started_at, ended_at, state)"
                           " VALUES ('old', 1, 5, 8, 'done');")
                    .ok());
    // The v2 tables do not exist yet.
    EXPECT_EQ(*(*db)->QueryInt("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'tasks'"), 0);
  }
  auto ledger = OpenOrDie(path, clock);
  auto run = ledger->GetRun("old");
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->has_value());
  EXPECT_EQ((*run)->goal, "fix");
  EXPECT_EQ((*run)->outcome, RunOutcome::kSucceeded);
  EXPECT_DOUBLE_EQ((*run)->totals.cost_usd, 0.25);
  EXPECT_EQ((*run)->totals.human_ms, 0);  // added by v2 with its default
  auto steps = ledger->ListSteps("old");
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ((*steps)[0].state, StepState::kDone);
  // v2 tables work.
  EXPECT_TRUE(ledger->UpsertTask(TaskRow{.run_id = "old", .task_id = "t1"}).ok());
  auto problems = ledger->IntegrityCheck();
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty());
}

TEST(Migrations, NewerSchemaIsRefusedAndTheFileIsNotModified) {
  TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "ledger.db";
  OpenOrDie(path, clock).reset();
  {
    auto db = Db::Open(path, false);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO schema_version VALUES (99, 'from the future', 1);"
                           "PRAGMA wal_checkpoint(TRUNCATE);")
                    .ok());
  }
  std::string before = ReadFile(path);
  auto ledger = Ledger::Open(LedgerOptions{path, clock.fn()});
  ASSERT_FALSE(ledger);
  EXPECT_EQ(ledger.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(ledger.error().message().find("version 99"), std::string::npos)
      << ledger.error().message();
  EXPECT_NE(ledger.error().message().find("upgrade tandem"), std::string::npos);
  EXPECT_EQ(ReadFile(path), before);
}

TEST(Migrations, ConcurrentOpenersApplyEachMigrationOnce) {
  TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "ledger.db";
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto ledger = Ledger::Open(LedgerOptions{path, clock.fn()});
      ok[i] = ledger.has_value();
      if (!ledger) ADD_FAILURE() << ledger.error().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (int v : ok) EXPECT_EQ(v, 1);
  auto db = Db::Open(path, false);
  ASSERT_TRUE(db);
  EXPECT_EQ(*(*db)->QueryInt("SELECT COUNT(*) FROM schema_version"), CurrentSchemaVersion());
}

}  // namespace
}  // namespace tandem::ledger

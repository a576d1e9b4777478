#include "tandem/ledger/sqlite.h"

#include <gtest/gtest.h>

#include "tandem/ledger/test_support.h"

namespace tandem::ledger {
namespace {

using testing::TempDir;

std::unique_ptr<Db> OpenDb(const TempDir& dir) {
  auto db = Db::Open(dir.path() / "t.db", /*create=*/true);
  EXPECT_TRUE(db) << db.error().ToString();
  EXPECT_TRUE(db.value()->Exec("CREATE TABLE t (a INTEGER, b TEXT UNIQUE)").ok());
  return std::move(db.value());
}

TEST(Sqlite, CachedStatementStartsCleanOnEveryUse) {
  TempDir dir;
  auto db = OpenDb(dir);
  {
    auto insert = db->Prepare("INSERT INTO t (a, b) VALUES (?1, ?2)");
    ASSERT_TRUE(insert);
    insert->Bind(1, 7).Bind(2, "x");
    ASSERT_TRUE(insert->Run().ok());
  }
  {
    // Same SQL: the cached statement, with the previous bindings cleared.
    auto insert = db->Prepare("INSERT INTO t (a, b) VALUES (?1, ?2)");
    ASSERT_TRUE(insert);
    insert->Bind(2, "y");
    ASSERT_TRUE(insert->Run().ok());
  }
  auto nulls = db->QueryInt("SELECT COUNT(*) FROM t WHERE a IS NULL");
  ASSERT_TRUE(nulls);
  EXPECT_EQ(*nulls, 1);
}

TEST(Sqlite, BindErrorIsReturnedByStep) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto stmt = db->Prepare("SELECT ?1");
  ASSERT_TRUE(stmt);
  stmt->Bind(5, 1);  // out of range
  auto row = stmt->Step();
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error().code(), StatusCode::kInvalidArgument);
}

TEST(Sqlite, ConstraintViolationIsInvalidArgumentNamingTheFile) {
  TempDir dir;
  auto db = OpenDb(dir);
  ASSERT_TRUE(db->Exec("INSERT INTO t (b) VALUES ('dup')").ok());
  Status status = db->Exec("INSERT INTO t (b) VALUES ('dup')");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("t.db"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("UNIQUE"), std::string::npos) << status.message();
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto db = OpenDb(dir);
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db->Exec("INSERT INTO t (a) VALUES (1)").ok());
  }
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(db->Exec("INSERT INTO t (a) VALUES (2)").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto sum = db->QueryInt("SELECT SUM(a) FROM t");
  ASSERT_TRUE(sum);
  EXPECT_EQ(*sum, 2);
}

TEST(Sqlite, UncachedPrepareRejectsMoreThanOneStatement) {
  TempDir dir;
  auto db = OpenDb(dir);
  auto stmt = db->PrepareUncached("SELECT 1; DELETE FROM t");
  ASSERT_FALSE(stmt);
  EXPECT_EQ(stmt.error().code(), StatusCode::kInvalidArgument);
}

TEST(Sqlite, OpeningWithoutCreateFailsForMissingFile) {
  TempDir dir;
  auto db = Db::Open(dir.path() / "missing.db", /*create=*/false);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), StatusCode::kIo);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing.db"));
}

}  // namespace
}  // namespace tandem::ledger

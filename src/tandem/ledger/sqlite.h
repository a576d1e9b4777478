// A small RAII layer over the SQLite C API: Db owns one connection and a
// cache of prepared statements; Statement is a scoped handle with typed
// bind/step/column accessors. Every SQLite error becomes a Status that names
// the database file and SQLite's own message.
//
// Thread-safety: a Db and its Statements are not thread-safe; the owner
// (Ledger) serializes access with its own mutex.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tandem/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tandem::ledger {

// A statement handle. Cached statements (from Db::Prepare) are borrowed: on
// destruction the handle resets the statement and clears its bindings so the
// next user starts clean. Uncached ones (Db::PrepareUncached) are finalized.
// Bind errors are remembered and returned by the next Step/Run, so binds can
// be chained without checking each one.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  Statement& BindNull(int index);
  // Binds NULL when `value` is empty.
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }
  // Binds NULL for an empty string (optional TEXT columns).
  Statement& BindTextOrNull(int index, std::string_view text);

  // Advances: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring any rows (for INSERT/UPDATE/DELETE).
  Status Run();

  // Columns are 0-based, as in SQLite. NULL reads as 0 / 0.0 / "".
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  int ColumnCount() const;
  std::string ColumnName(int column) const;
  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL.
  int ColumnType(int column) const;
  // True when the statement cannot change the database (sqlite3_stmt_readonly).
  bool ReadOnly() const;

 private:
  friend class Db;
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool owned, const std::string* path);
  Status Error(int rc) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
  const std::string* path_;  // for error messages; owned by the Db
  Status bind_error_;
};

// One SQLite connection.
class Db {
 public:
  // Opens (creating when `create`) the database at `path`. Does not read the
  // file yet: SQLite opens lazily, so a corrupt file is reported by the first
  // statement, never overwritten here.
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows we need (DDL, PRAGMA
  // setters, BEGIN/COMMIT).
  Status Exec(std::string_view sql);

  // Returns a handle to the cached prepared statement for `sql` (prepared on
  // first use). REQUIRES: the previous handle for the same SQL is destroyed.
  Result<Statement> Prepare(std::string_view sql);
  // Prepares `sql` once, without caching (ad hoc queries).
  Result<Statement> PrepareUncached(std::string_view sql);

  // Runs a single-row, single-column query and returns the integer (0 when
  // no row or NULL).
  Result<int64_t> QueryInt(std::string_view sql);
  // Same, for a text result ("" when no row or NULL).
  Result<std::string> QueryText(std::string_view sql);

  int64_t LastInsertRowId() const;
  int64_t Changes() const;
  const std::string& path() const { return path_; }

  // Converts SQLite result code `rc` into a Status naming the file and SQLite's message.
  Status Error(int rc, std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Maps a SQLite primary result code to a StatusCode (busy -> unavailable,
// not-a-database/corrupt -> failed_precondition, I/O and full -> io, ...).
StatusCode StatusCodeForSqlite(int rc);

// Runs BEGIN IMMEDIATE on construction and ROLLBACK on destruction unless
// Commit() succeeded. IMMEDIATE takes the write lock up front, so concurrent
// writers wait in the busy handler instead of failing to upgrade a read
// transaction.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace tandem::ledger

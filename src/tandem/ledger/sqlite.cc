#include "tandem/ledger/sqlite.h"

#include <sqlite3.h>

#include <string>

#include "tandem/ledger/try.h"

namespace tandem::ledger {

StatusCode StatusCodeForSqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StatusCode::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_READONLY:
      return StatusCode::kFailedPrecondition;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
      return StatusCode::kIo;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return StatusCode::kInvalidArgument;
    case SQLITE_INTERRUPT:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kInternal;
  }
}

namespace {

Status MakeError(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  std::string message(what);
  message += " (";
  message += path;
  message += "): ";
  if ((rc & 0xff) == SQLITE_NOTADB) {
    message += "the file is not a SQLite database (left untouched; move it aside to start afresh)";
  } else {
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  }
  return Status(StatusCodeForSqlite(rc), std::move(message));
}

}  // namespace

// ---- Statement ----

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool owned, const std::string* path)
    : db_(db), stmt_(stmt), owned_(owned), path_(path) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      owned_(other.owned_),
      path_(other.path_),
      bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Status Statement::Error(int rc) const {
  const char* sql = sqlite3_sql(stmt_);
  std::string what = "sqlite statement failed: ";
  what += sql != nullptr ? std::string_view(sql).substr(0, 60) : "?";
  return MakeError(db_, rc, *path_, what);
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  // A default string_view has data() == nullptr, which SQLite would bind as NULL.
  const char* data = text.data() != nullptr ? text.data() : "";
  int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::BindTextOrNull(int index, std::string_view text) {
  return text.empty() ? BindNull(index) : Bind(index, text);
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status error = Error(rc);
  sqlite3_reset(stmt_);  // leave the statement reusable after the failure
  return error;
}

Status Statement::Run() {
  while (true) {
    bool row = LEDGER_TRY(Step());
    if (!row) return Status::Ok();
  }
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}
int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }
std::string Statement::ColumnName(int column) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return name != nullptr ? name : "";
}
int Statement::ColumnType(int column) const { return sqlite3_column_type(stmt_, column); }
bool Statement::ReadOnly() const { return sqlite3_stmt_readonly(stmt_) != 0; }

// ---- Db ----

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;  // the owner serializes access
  if (create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status error = MakeError(raw, rc, path.string(), "cannot open ledger");
    sqlite3_close_v2(raw);
    return error;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw, path.string()));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Db::Error(int rc, std::string_view what) const { return MakeError(db_, rc, path_, what); }

Status Db::Exec(std::string_view sql) {
  std::string copy(sql);  // sqlite3_exec needs a NUL-terminated string
  char* err = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, "sqlite exec failed");
  return Status::Ok();
}

Result<Statement> Db::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it != cache_.end()) return Statement(db_, it->second, /*owned=*/false, &path_);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare statement");
  cache_.emplace(std::move(key), stmt);
  return Statement(db_, stmt, /*owned=*/false, &path_);
}

Result<Statement> Db::PrepareUncached(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare statement");
  if (stmt == nullptr) return InvalidArgument("empty SQL statement");
  Statement handle(db_, stmt, /*owned=*/true, &path_);
  if (tail != nullptr &&
      std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string::npos) {
    return InvalidArgument("expected exactly one SQL statement");
  }
  return handle;
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  Statement stmt = LEDGER_TRY(PrepareUncached(sql));
  bool row = LEDGER_TRY(stmt.Step());
  return row ? stmt.Int(0) : int64_t{0};
}

Result<std::string> Db::QueryText(std::string_view sql) {
  Statement stmt = LEDGER_TRY(PrepareUncached(sql));
  bool row = LEDGER_TRY(stmt.Step());
  return row ? stmt.Text(0) : std::string();
}

int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Db::Changes() const { return sqlite3_changes64(db_); }

// ---- Transaction ----

Result<Transaction> Transaction::Begin(Db& db) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Db* db = db_;
  db_ = nullptr;
  Status status = db->Exec("COMMIT");
  if (!status.ok()) (void)db->Exec("ROLLBACK");
  return status;
}

}  // namespace tandem::ledger

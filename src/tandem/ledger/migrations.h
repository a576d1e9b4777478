// The ledger's schema history: an ordered list of numbered SQL scripts.
// Migration N takes a database at version N-1 to version N; each runs in its
// own IMMEDIATE transaction together with its schema_version row, so a crash
// leaves the database at some whole version and concurrent openers do not
// apply a migration twice. Published migrations are never edited: change the
// schema by appending one (docs/LEDGER.md).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "tandem/base/status.h"
#include "tandem/ledger/sqlite.h"

namespace tandem::ledger {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// All migrations, in order; element i has version i + 1.
std::span<const Migration> Migrations();

// The version this build of tandem writes (the last migration's).
int CurrentSchemaVersion();

// The database's version: MAX(version) of schema_version, 0 when the table
// does not exist (a new, empty database).
Result<int> SchemaVersion(Db& db);

// Applies the migrations above the database's version, up to `target`.
// Returns FailedPrecondition, without touching the file, when the database
// is newer than this build knows. `now_ms` stamps schema_version.applied_at.
Status Migrate(Db& db, int64_t now_ms, int target = CurrentSchemaVersion());

}  // namespace tandem::ledger

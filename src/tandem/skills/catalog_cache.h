// A catalog of skills and its BM25 index, built once per process and shared
// by every task while the skills folders do not change. Discovering and
// indexing 1,000 skills costs tens of milliseconds (docs/PERFORMANCE.md
// section 15); a plan run with many tasks, or `tandem skills eval`, pays it
// once, then each task pays only the check that nothing changed.
//
// The check is a signature of the folders' state, read without opening a
// SKILL.md: for each root (the repository's .agents/skills/ and
// .claude/skills/, the user's ~/.agents/skills/) the folder's own stat, and
// for each entry in it the stat of <entry>/SKILL.md (or its absence): inode,
// size, mtime and ctime in nanoseconds. Adding, removing, replacing or
// editing a skill changes one of these (ctime cannot be set back by a
// program, unlike mtime). A file changed within `racy_margin` of the moment
// it was read may have changed again within the file system's timestamp
// granularity without its stat changing (git's "racily clean" entries), so
// a catalog read that close to a change is used for that task only and read
// again next time.
//
// Cost: one directory listing per root and one stat per entry (about 1 us
// each on tmpfs); a miss adds what DiscoverSkills and SkillIndex::Build cost.
// Thread-safety: Get may be called from any thread; a snapshot is immutable
// and may outlive the cache's entry for it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tandem/base/mutex.h"
#include "tandem/skills/catalog.h"
#include "tandem/skills/index.h"

namespace tandem::skills {

struct CatalogSnapshot {
  Catalog catalog;
  SkillIndex index;  // of catalog, built once
};

class CatalogCache {
 public:
  // Nanoseconds since the epoch on the clock file times use (CLOCK_REALTIME).
  using Clock = std::function<int64_t()>;
  static int64_t RealtimeNs();

  // `racy_margin_ns`: see above (2 s: coarse file-system clocks, clock slew,
  // network file systems). `now`: tests pass their own.
  explicit CatalogCache(int64_t racy_margin_ns = 2'000'000'000, Clock now = RealtimeNs,
                        size_t max_entries = 16);

  // The skills of `roots`: the cached snapshot when the folders' signature
  // is the one it was read with, else discovered and indexed now (and kept
  // for the next call unless racy). Never fails, like DiscoverSkills.
  std::shared_ptr<const CatalogSnapshot> Get(const SkillRoots& roots);

  struct Counters {
    int64_t hits = 0;
    int64_t misses = 0;
  };
  Counters counters() const;

 private:
  struct Entry {
    std::string key;        // the roots
    std::string signature;  // the folders' state the snapshot was read at
    std::shared_ptr<const CatalogSnapshot> snapshot;
    uint64_t last_used = 0;
  };

  const int64_t racy_margin_ns_;
  const Clock now_;
  const size_t max_entries_;
  mutable Mutex mu_;
  std::vector<Entry> entries_ GUARDED_BY(mu_);
  uint64_t uses_ GUARDED_BY(mu_) = 0;
  Counters counters_ GUARDED_BY(mu_);
};

// The signature of `roots`' skills folders described above, and the newest
// change time (ns) among what it stat'ed (0 when nothing exists).
struct FolderSignature {
  std::string bytes;
  int64_t newest_change_ns = 0;
};
FolderSignature SignSkillFolders(const SkillRoots& roots);

// The process's cache, used by every task's skill pick (agent/skill_context.h).
CatalogCache& ProcessCatalogCache();

}  // namespace tandem::skills

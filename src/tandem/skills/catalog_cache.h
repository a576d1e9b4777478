// A catalog of skills and its BM25 index, built once per process and shared
// by every task while the skills folders do not change. Discovering and
// indexing 1,000 skills costs tens of milliseconds (docs/PERFORMANCE.md
// section 15); a plan run with many tasks, or `tandem skills eval`, pays it
// once, then each task pays only the check that nothing changed.
//
// Knowing that nothing changed, without ever serving a stale catalog. The
// catalog depends on the skills folders (the repository's .agents/skills/
// and .claude/skills/, the user's ~/.agents/skills/, each wherever its
// symlinks lead), the entries in them, and each entry's SKILL.md. Two ways:
//
//  Watched (the default). Before the files are read, inotify watches are put
//  on each skills folder (any visible entry created, removed, renamed) and
//  on each skill's folder (its SKILL.md created, written, truncated,
//  removed, renamed, its mode or times changed). Every change made after
//  that point is queued by the kernel before the system call that made it
//  returns, so a later task's check is one non-blocking read of the queue
//  (empty: unchanged), plus a stat of what a watch cannot see ("anchors"):
//  each skills folder's path (created, removed, replaced, a symlink on the
//  way retargeted: its device and inode), each entry that is a symlink, and
//  each SKILL.md that is a symlink or has other hard links (edits through
//  another name raise no event here: its inode, size, mtime and ctime).
//  A watched folder that is deleted ends its watch, which counts as a
//  change. Since the watches exist before the read, no timestamp is
//  compared and a skill written a moment ago is cached at once.
//
//  Signed (the fallback). When watches cannot be had (no inotify instance
//  left, the kernel's fs.inotify.max_user_watches reached, more folders
//  than `max_watches`, a skills folder on a network or FUSE file system
//  whose remote changes raise no local event), or the kernel dropped events
//  (IN_Q_OVERFLOW), the check is the signature: each root folder's stat,
//  and for each entry the stat of <entry>/SKILL.md (or its absence): inode,
//  size, mtime and ctime in nanoseconds. Adding, removing, replacing or
//  editing a skill changes one of these (ctime cannot be set back by a
//  program, unlike mtime). A file changed within `racy_margin` of the
//  moment it was read may have changed again within the file system's
//  timestamp granularity without its stat changing (git's "racily clean"
//  entries), so a catalog read that close to a change is used for that task
//  only and read again next time; the rule also applies to anchored
//  SKILL.md files in watched mode. After an overflow the watches are put
//  back and the signature decides whether the catalog is read again.
//
// Blind spots (both ways): writes through a shared memory mapping (no event,
// and mtime moves late); a move of a folder above the repository root or
// the home folder (those are taken to stay where they are).
//
// Fan-out: GetPinned shares one catalog among worktrees the caller vouches
// hold the same skills (a fan-out's variants, each checked out at the
// fan-out's base checkpoint when its task starts); see there.
//
// Cost (docs/PERFORMANCE.md section 15, 1,000 skills on tmpfs):
//   a hit, watched: one read(2) of the inotify descriptor that finds it
//     empty, one stat per anchor (3 for the usual roots), a mutex: a few
//     microseconds whatever the number of skills;
//   a hit, signed: one directory listing per root and one stat per entry
//     (about 1.3 us each);
//   a miss: the listing and stats of the signature, one inotify_add_watch
//     per folder, then DiscoverSkills and SkillIndex::Build (tens of ms);
//   after an overflow: the watches and the signature again (milliseconds),
//     and the read only when the signature differs.
// Kernel resources: one inotify descriptor per cached entry (at most
// `max_entries`), one watch per skills folder and skill folder (counted
// against fs.inotify.max_user_watches, shared by the user's processes);
// released when the entry is replaced, dropped or the cache destroyed.
//
// Thread-safety: Get and GetPinned may be called from any thread. The
// entries and their watches are guarded by one mutex, held while a check
// reads the queue and stats the anchors, never while files are read or
// indexed (two tasks missing at once may both read; either result is
// correct). A snapshot is immutable and may outlive the cache's entry for
// it.
//
// Errors: none. Get never fails, like DiscoverSkills: a watch that cannot be
// had means the signature, a folder that cannot be read is a catalog
// problem line.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/mutex.h"
#include "tandem/skills/catalog.h"
#include "tandem/skills/index.h"

namespace tandem::skills {

struct CatalogSnapshot {
  Catalog catalog;
  SkillIndex index;  // of catalog, built once
};

class SkillsWatch;  // one entry's inotify watches and anchors (catalog_cache.cc)

class CatalogCache {
 public:
  // Nanoseconds since the epoch on the clock file times use (CLOCK_REALTIME).
  using Clock = std::function<int64_t()>;
  static int64_t RealtimeNs();

  // `racy_margin_ns`: see above (2 s: coarse file-system clocks, clock slew,
  // network file systems). `now`: tests pass their own. `max_watches`: the
  // most inotify watches one entry may hold; past it that entry is signed
  // (0: always signed).
  explicit CatalogCache(int64_t racy_margin_ns = 2'000'000'000, Clock now = RealtimeNs,
                        size_t max_entries = 16, size_t max_watches = 8192);
  ~CatalogCache();
  CatalogCache(const CatalogCache&) = delete;
  CatalogCache& operator=(const CatalogCache&) = delete;

  // The skills of `roots`: the cached snapshot when the check above says
  // nothing changed since it was read, else discovered and indexed now (and
  // kept for the next call unless racy).
  std::shared_ptr<const CatalogSnapshot> Get(const SkillRoots& roots);

  // The skills of `roots` when the caller vouches that the repository's
  // skills folders under roots.repo_root hold exactly the files `content`
  // names (an immutable id: a fan-out passes its base checkpoint, each
  // variant's worktree having just been checked out at it, before the
  // variant changed anything). Every call with the same `content`,
  // repo_dir and home shares one snapshot, read from the folders of the
  // call that found none; the repository's folders are then neither
  // watched nor stat'ed (a worktree that changes its own skills afterwards
  // changes nothing for the others), only the user's ~/.agents/skills/
  // is checked as Get checks it; when it changed, the catalog is read again
  // from the folders of the call that sees it. Ignored files are no part of
  // a checkpoint: a SKILL.md git ignores is seen as that reader's tree has
  // it. FoundSkill::dir names the reader's folder; use `shown`.
  std::shared_ptr<const CatalogSnapshot> GetPinned(const SkillRoots& roots,
                                                   std::string_view content);

  struct Counters {
    int64_t hits = 0;
    int64_t misses = 0;
    // Checks the signature decided (watches unavailable, or events lost).
    int64_t signature_checks = 0;
  };
  Counters counters() const;

 private:
  struct Entry;

  std::shared_ptr<const CatalogSnapshot> Lookup(std::string key, const SkillRoots& read,
                                                const SkillRoots& checked);

  const int64_t racy_margin_ns_;
  const Clock now_;
  const size_t max_entries_;
  const size_t max_watches_;
  mutable Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ GUARDED_BY(mu_);
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

#include "tandem/skills/catalog_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "tandem/platform/fs_watch.h"

namespace tandem::skills {
namespace {

int64_t Ns(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void Put(std::string& out, const void* data, size_t n) {
  out.append(static_cast<const char*>(data), n);
}

// "<ino><size><mtime><ctime>" of `st`, and the newest change it shows.
void PutStat(std::string& out, const struct stat& st, int64_t& newest) {
  uint64_t fields[4] = {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                        static_cast<uint64_t>(Ns(st.st_mtim)), static_cast<uint64_t>(Ns(st.st_ctim))};
  Put(out, fields, sizeof fields);
  newest = std::max({newest, Ns(st.st_mtim), Ns(st.st_ctim)});
}

// File systems whose changes made elsewhere (another machine, the host of a
// VM, a FUSE daemon) raise no inotify event here.
bool IsRemote(const struct statfs& fs) {
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x65735546:  // FUSE (sshfs, virtiofs, ...)
    case 0x01021997:  // 9P (WSL2's /mnt/c, VM shares)
    case 0x00C36400:  // Ceph
    case 0x5346414F:  // AFS
    case 0x6B414653:  // kAFS
      return true;
    default:
      return false;
  }
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

}  // namespace

// What makes a check one read (see the header): the inotify watches of one
// cache entry, what each watched folder's events matter for, and the paths
// stat'ed at each check. Filled by the walk of SignFolders before the
// catalog is read; not thread-safe (the cache's mutex guards it).
class SkillsWatch {
 public:
  enum Rule : uint8_t {
    kVisibleEntries = 1,  // a skills folder: any entry not starting with '.'
    kSkillFile = 2,       // a skill's folder: its SKILL.md
  };
  enum class Verdict { kUnchanged, kChanged, kLost };

  // Null when the process or user is out of inotify instances.
  static std::unique_ptr<SkillsWatch> Create(size_t max_watches) {
    auto fs = platform::FsWatch::Create("/");
    if (!fs) return nullptr;
    return std::unique_ptr<SkillsWatch>(new SkillsWatch(std::move(*fs), max_watches));
  }

  // False once a watch could not be had: the entry is signed instead.
  bool usable() const { return usable_; }
  // The newest change among anchored SKILL.md files (the racy rule).
  int64_t newest_anchor_change_ns() const { return newest_anchor_change_ns_; }

  // Watches folder `path` (`real`: already free of symlinks) for `rule`;
  // returns its real path, or "" when it is not watched: gone meanwhile
  // (the watch of its parent, or an anchor, reports that) or the watch is
  // no longer usable. `dev`: its device, 0 when unknown (then stat'ed).
  std::string Folder(const std::string& path, bool real, uint8_t rule, dev_t dev) {
    if (!usable_) return "";
    std::string dir = real ? path : RealPath(path);
    if (dir.empty()) return "";
    if (dev == 0) {
      struct stat st {};
      if (::stat(dir.c_str(), &st) != 0) return "";
      dev = st.st_dev;
    }
    if (!Device(dev, dir)) return "";
    if (fs_->watch_count() >= max_watches_) {
      usable_ = false;
      return "";
    }
    Status added = fs_->Add(dir);
    if (!added.ok()) {
      if (added.code() != StatusCode::kNotFound) usable_ = false;  // the limit, or worse
      return "";
    }
    rules_[dir] |= rule;
    return dir;
  }

  // A path stat'ed at every check (following links): its device, inode and
  // type, or its absence; with `content` also its size, mtime and ctime.
  // Taken before the path is used, so a change after it shows.
  void Anchor(std::string path, bool content) {
    if (!usable_) return;
    AnchorStat a;
    a.path = std::move(path);
    a.content = content;
    struct stat st {};
    a.exists = ::stat(a.path.c_str(), &st) == 0;
    if (a.exists) {
      a.Fill(st);
      if (content) newest_anchor_change_ns_ = std::max({newest_anchor_change_ns_, a.mtime, a.ctime});
    }
    anchors_.push_back(std::move(a));
  }

  // False (and the watch unusable) when `dev` is a network or FUSE file
  // system; statfs once per device.
  bool Device(dev_t dev, const std::string& path) {
    if (!usable_) return false;
    if (std::find(devices_.begin(), devices_.end(), dev) != devices_.end()) return true;
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0 || IsRemote(fs)) {
      usable_ = false;
      return false;
    }
    devices_.push_back(dev);
    return true;
  }

  // Everything queued since the last check, then the anchors.
  Verdict Check() {
    auto batch = fs_->Drain();
    if (!batch || batch->lost) return Verdict::kLost;
    if (!batch->gone.empty()) return Verdict::kChanged;
    for (const platform::FsWatch::Event& e : batch->events) {
      if (Matters(e.path)) return Verdict::kChanged;
    }
    for (const AnchorStat& a : anchors_) {
      struct stat st {};
      bool exists = ::stat(a.path.c_str(), &st) == 0;
      if (exists != a.exists) return Verdict::kChanged;
      if (!exists) continue;
      AnchorStat now;
      now.content = a.content;
      now.Fill(st);
      if (!a.Same(now)) return Verdict::kChanged;
    }
    return Verdict::kUnchanged;
  }

 private:
  struct AnchorStat {
    std::string path;
    bool content = false;
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    mode_t type = 0;
    off_t size = 0;
    int64_t mtime = 0;
    int64_t ctime = 0;
    void Fill(const struct stat& st) {
      dev = st.st_dev;
      ino = st.st_ino;
      type = st.st_mode & S_IFMT;
      if (content) {
        size = st.st_size;
        mtime = Ns(st.st_mtim);
        ctime = Ns(st.st_ctim);
      }
    }
    bool Same(const AnchorStat& o) const {
      return dev == o.dev && ino == o.ino && type == o.type && size == o.size &&
             mtime == o.mtime && ctime == o.ctime;
    }
  };

  SkillsWatch(std::unique_ptr<platform::FsWatch> fs, size_t max_watches)
      : fs_(std::move(fs)), max_watches_(max_watches) {}

  // Whether an event on `path` (a watched folder's "<dir>/<name>") can
  // change the catalog. A folder not known here counts.
  bool Matters(const std::string& path) const {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return true;
    auto rule = rules_.find(path.substr(0, slash));
    if (rule == rules_.end()) return true;
    std::string_view name(path.data() + slash + 1, path.size() - slash - 1);
    if ((rule->second & kVisibleEntries) && !name.empty() && name[0] != '.') return true;
    return (rule->second & kSkillFile) && name == "SKILL.md";
  }

  std::unique_ptr<platform::FsWatch> fs_;
  const size_t max_watches_;
  bool usable_ = true;
  std::unordered_map<std::string, uint8_t> rules_;  // real path of a watched folder -> Rule bits
  std::vector<AnchorStat> anchors_;
  std::vector<dev_t> devices_;  // checked to be local
  int64_t newest_anchor_change_ns_ = 0;
};

namespace {

// One root's part of the signature: the folder, then each entry's SKILL.md.
// With `watch`, also what lets the next check be one read: the root's path
// anchored before it is opened, the folder watched before it is listed, each
// skill's folder watched before its SKILL.md is stat'ed (and read, later, by
// DiscoverSkills), entries and SKILL.md files that are symlinks, and SKILL.md
// files with other hard links, anchored. So any change after the walk is
// either queued or seen by an anchor.
void SignRoot(const std::string& dir, FolderSignature& sig, SkillsWatch* watch) {
  sig.bytes += dir;
  sig.bytes.push_back('\0');
  if (watch) watch->Anchor(dir, /*content=*/false);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    sig.bytes += "-";  // absent or unreadable: DiscoverSkills finds nothing or reports it
    sig.bytes.push_back('\0');
    return;
  }
  PutStat(sig.bytes, st, sig.newest_change_ns);
  std::string real;  // the folder's real path once watched
  if (watch) real = watch->Folder(dir, /*real=*/false, SkillsWatch::kVisibleEntries, st.st_dev);
  DIR* d = ::fdopendir(fd);  // owns fd from here
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  // Sorted, so the signature does not depend on readdir's order.
  std::vector<std::string> records;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;  // as DiscoverSkills: hidden entries are not skills
    std::string record(e->d_name);
    record.push_back('\0');
    std::string skill_md = std::string(e->d_name) + "/SKILL.md";
    int flags = 0;
    if (watch && !real.empty()) {
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat entry {};
        if (::fstatat(::dirfd(d), e->d_name, &entry, AT_SYMLINK_NOFOLLOW) == 0) {
          type = S_ISDIR(entry.st_mode) ? DT_DIR : S_ISLNK(entry.st_mode) ? DT_LNK : DT_REG;
        }
      }
      std::string path = real + "/" + e->d_name;
      if (type == DT_DIR) {
        watch->Folder(path, /*real=*/true, SkillsWatch::kSkillFile, st.st_dev);
      } else if (type == DT_LNK) {
        watch->Anchor(path, /*content=*/false);
        struct stat target {};
        if (::stat(path.c_str(), &target) == 0 && S_ISDIR(target.st_mode)) {
          watch->Folder(path, /*real=*/false, SkillsWatch::kSkillFile, target.st_dev);
        }
      }
      flags = AT_SYMLINK_NOFOLLOW;
    }
    struct stat file {};
    bool found = ::fstatat(::dirfd(d), skill_md.c_str(), &file, flags) == 0;
    if (found && flags != 0) {
      std::string path = real + "/" + skill_md;
      if (S_ISLNK(file.st_mode) || (S_ISREG(file.st_mode) && file.st_nlink > 1)) {
        // Edits through its other name raise no event in this folder.
        watch->Anchor(path, /*content=*/true);
        found = ::fstatat(::dirfd(d), skill_md.c_str(), &file, 0) == 0;
      }
      if (found && file.st_dev != st.st_dev) watch->Device(file.st_dev, path);
    }
    if (found) {
      PutStat(record, file, sig.newest_change_ns);
    } else {
      record += "-";
    }
    records.push_back(std::move(record));
  }
  ::closedir(d);
  std::sort(records.begin(), records.end());
  for (const std::string& r : records) {
    uint32_t n = static_cast<uint32_t>(r.size());
    Put(sig.bytes, &n, sizeof n);
    sig.bytes += r;
  }
}

// The same folders, in the same order, as DiscoverSkills reads.
FolderSignature SignFolders(const SkillRoots& roots, SkillsWatch* watch) {
  FolderSignature sig;
  if (!roots.repo_root.empty()) {
    SignRoot(roots.repo_root + "/" + roots.repo_dir, sig, watch);
    if (roots.repo_dir != ".claude/skills") SignRoot(roots.repo_root + "/.claude/skills", sig, watch);
  }
  if (!roots.home.empty()) SignRoot(roots.home + "/.agents/skills", sig, watch);
  return sig;
}

std::string KeyOf(const SkillRoots& roots) {
  std::string key = roots.repo_root;
  key.push_back('\0');
  key += roots.repo_dir;
  key.push_back('\0');
  key += roots.home;
  return key;
}

}  // namespace

FolderSignature SignSkillFolders(const SkillRoots& roots) { return SignFolders(roots, nullptr); }

struct CatalogCache::Entry {
  std::string key;
  std::string signature;        // the folders' state the snapshot was read at
  bool signature_racy = false;  // ... too close to a change to trust after an overflow
  std::shared_ptr<const CatalogSnapshot> snapshot;
  std::unique_ptr<SkillsWatch> watch;  // null: checked by the signature
  bool watch_failed = false;           // ... because no watch could be had (retried at a read)
  uint64_t last_used = 0;
};

int64_t CatalogCache::RealtimeNs() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return Ns(t);
}

CatalogCache::CatalogCache(int64_t racy_margin_ns, Clock now, size_t max_entries,
                           size_t max_watches)
    : racy_margin_ns_(racy_margin_ns),
      now_(std::move(now)),
      max_entries_(max_entries),
      max_watches_(max_watches) {}

CatalogCache::~CatalogCache() = default;

std::shared_ptr<const CatalogSnapshot> CatalogCache::Get(const SkillRoots& roots) {
  return Lookup(KeyOf(roots), roots, roots);
}

std::shared_ptr<const CatalogSnapshot> CatalogCache::GetPinned(const SkillRoots& roots,
                                                               std::string_view content) {
  // Only the user's folder can change under a pinned catalog.
  SkillRoots home{"", roots.repo_dir, roots.home};
  std::string key = "pinned";
  key.push_back('\0');
  key += content;
  key.push_back('\0');
  key += KeyOf(home);
  return Lookup(std::move(key), roots, home);
}

std::shared_ptr<const CatalogSnapshot> CatalogCache::Lookup(std::string key,
                                                            const SkillRoots& read,
                                                            const SkillRoots& checked) {
  // What the lock finds: a hit, or a snapshot for the signature to confirm,
  // or nothing usable.
  std::shared_ptr<const CatalogSnapshot> kept;
  std::string kept_signature;
  bool rearm = true;
  std::unique_ptr<SkillsWatch> dropped;  // closed outside the lock
  {
    MutexLock lock(mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const std::unique_ptr<Entry>& e) { return e->key == key; });
    if (it != entries_.end()) {
      Entry& e = **it;
      if (e.watch) {
        switch (e.watch->Check()) {
          case SkillsWatch::Verdict::kUnchanged:
            e.last_used = ++uses_;
            ++counters_.hits;
            return e.snapshot;
          case SkillsWatch::Verdict::kChanged:
            // The events are consumed: the entry goes with them.
            dropped = std::move(e.watch);
            entries_.erase(it);
            break;
          case SkillsWatch::Verdict::kLost:
            // Signed until the watches are back (below), unless the
            // signature was taken too close to a change to trust.
            dropped = std::move(e.watch);
            if (e.signature_racy) {
              entries_.erase(it);
            } else {
              kept = e.snapshot;
              kept_signature = e.signature;
            }
            break;
        }
      } else {
        // Signed: never racy (a racy read is not kept without a watch).
        kept = e.snapshot;
        kept_signature = e.signature;
        rearm = !e.watch_failed;
      }
    }
  }
  dropped.reset();

  int64_t read_at = now_();
  std::unique_ptr<SkillsWatch> watch = rearm ? SkillsWatch::Create(max_watches_) : nullptr;
  FolderSignature sig = SignFolders(checked, watch.get());
  if (watch && !watch->usable()) watch.reset();
  if (kept) {
    bool same = sig.bytes == kept_signature;
    MutexLock lock(mu_);
    ++counters_.signature_checks;
    if (same) {
      ++counters_.hits;
      for (std::unique_ptr<Entry>& e : entries_) {
        if (e->key == key && e->snapshot == kept) {
          e->last_used = ++uses_;
          if (rearm && !e->watch) {
            e->watch = std::move(watch);
            e->watch_failed = e->watch == nullptr;
          }
          break;
        }
      }
      return kept;
    }
  }
  if (kept && !rearm) {
    // Changed, and the watches were not tried: try them before the read.
    read_at = now_();
    watch = SkillsWatch::Create(max_watches_);
    sig = SignFolders(checked, watch.get());
    if (watch && !watch->usable()) watch.reset();
  }
  {
    MutexLock lock(mu_);
    ++counters_.misses;
  }
  auto snapshot = std::make_shared<CatalogSnapshot>();
  snapshot->catalog = DiscoverSkills(read);
  snapshot->index = SkillIndex::Build(snapshot->catalog);
  std::shared_ptr<const CatalogSnapshot> result = std::move(snapshot);
  // Racily clean: a change this close to the read may hide a later one.
  // Watched, only the anchored files' times matter: any other change after
  // the walk is queued.
  const int64_t racy_after = read_at - racy_margin_ns_;
  const bool signature_racy = sig.newest_change_ns >= racy_after;
  if (watch ? watch->newest_anchor_change_ns() >= racy_after : signature_racy) return result;
  auto entry = std::make_unique<Entry>();
  entry->key = std::move(key);
  entry->signature = std::move(sig.bytes);
  entry->signature_racy = signature_racy;
  entry->snapshot = result;
  entry->watch_failed = watch == nullptr;
  entry->watch = std::move(watch);
  std::unique_ptr<Entry> replaced;  // destroyed outside the lock
  MutexLock lock(mu_);
  entry->last_used = ++uses_;
  auto same = std::find_if(entries_.begin(), entries_.end(),
                           [&](const std::unique_ptr<Entry>& e) { return e->key == entry->key; });
  if (same == entries_.end() && entries_.size() >= max_entries_) {
    same = std::min_element(entries_.begin(), entries_.end(),
                            [](const std::unique_ptr<Entry>& a, const std::unique_ptr<Entry>& b) {
                              return a->last_used < b->last_used;
                            });
  }
  if (same == entries_.end()) {
    entries_.push_back(std::move(entry));
  } else {
    replaced = std::move(*same);
    *same = std::move(entry);
  }
  return result;
}

CatalogCache::Counters CatalogCache::counters() const {
  MutexLock lock(mu_);
  return counters_;
}

CatalogCache& ProcessCatalogCache() {
  static CatalogCache* cache = new CatalogCache();  // never destroyed: tasks may run at exit
  return *cache;
}

}  // namespace tandem::skills

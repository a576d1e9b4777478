// Clang thread-safety annotations (-Wthread-safety), as leveldb and abseil
// use them: GUARDED_BY(mu_) on a member says which mutex guards it, and clang
// checks every access. The macros expand to nothing on other compilers (gcc),
// so they document there and check under clang. Use them with
// tandem::Mutex / tandem::MutexLock (base/mutex.h): std::mutex itself carries
// no annotations in libstdc++.
#pragma once

#if defined(__clang__)
#define TANDEM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TANDEM_THREAD_ANNOTATION(x)
#endif

#ifndef CAPABILITY
#define CAPABILITY(name) TANDEM_THREAD_ANNOTATION(capability(name))
#endif
#ifndef SCOPED_CAPABILITY
#define SCOPED_CAPABILITY TANDEM_THREAD_ANNOTATION(scoped_lockable)
#endif
#ifndef GUARDED_BY
#define GUARDED_BY(mu) TANDEM_THREAD_ANNOTATION(guarded_by(mu))
#endif
#ifndef PT_GUARDED_BY
#define PT_GUARDED_BY(mu) TANDEM_THREAD_ANNOTATION(pt_guarded_by(mu))
#endif
#ifndef REQUIRES
#define REQUIRES(...) TANDEM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#endif
#ifndef EXCLUDES
#define EXCLUDES(...) TANDEM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#endif
#ifndef ACQUIRE
#define ACQUIRE(...) TANDEM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#endif
#ifndef RELEASE
#define RELEASE(...) TANDEM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#endif
#ifndef TRY_ACQUIRE
#define TRY_ACQUIRE(...) TANDEM_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#endif
#ifndef NO_THREAD_SAFETY_ANALYSIS
#define NO_THREAD_SAFETY_ANALYSIS TANDEM_THREAD_ANNOTATION(no_thread_safety_analysis)
#endif

// libFuzzer target for the plan.md parser (and the progress.md reader).
// Properties checked beyond "no crash, no sanitizer report":
//   - a plan that parses renders to text that parses again to the same
//     tasks, and rendering is then a fixed point;
//   - ExtractForTask never exceeds its byte budget.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"

namespace {

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "plan_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool SameTask(const tandem::memory::PlanTask& a, const tandem::memory::PlanTask& b) {
  return a.id == b.id && a.title == b.title && a.state == b.state && a.what == b.what &&
         a.scope == b.scope && a.gates == b.gates && a.checks == b.checks && a.risk == b.risk &&
         a.after == b.after;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem::memory;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto plan = ParsePlan(text);
  if (plan) {
    std::string rendered = RenderPlan(*plan);
    auto again = ParsePlan(rendered);
    if (!again) Fail("rendered plan does not parse", again.error().ToString() + "\n" + rendered);
    if (again->goal != plan->goal || again->tasks.size() != plan->tasks.size()) {
      Fail("round trip changed the plan", rendered);
    }
    for (size_t i = 0; i < plan->tasks.size(); ++i) {
      if (!SameTask(plan->tasks[i], again->tasks[i])) {
        Fail("round trip changed a task", plan->tasks[i].id + "\n" + rendered);
      }
    }
    if (RenderPlan(*again) != rendered) Fail("render is not a fixed point", rendered);
    (void)ReadyTasks(*plan);
  } else if (plan.error().code() != tandem::StatusCode::kInvalidArgument) {
    Fail("unexpected error code", plan.error().ToString());
  }

  size_t budget = size % 1024;
  std::string extract = ExtractForTask(text, "T1", budget, {"T2"});
  if (extract.size() > budget) Fail("extract over budget", std::to_string(extract.size()));
  (void)ReadOutcomes(text);
  return 0;
}

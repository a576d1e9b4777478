// `tandem stats` for a person: a short summary and per model / role / tier
// tables. An empty window reads "no runs yet", never a table of dashes.
#pragma once

#include <string>

#include "tandem/metrics/report.h"

namespace tandem::metrics {

std::string RenderReportText(const Report& report, const std::string& repo);

}  // namespace tandem::metrics

// `tandem stats --json`: the report as one JSON object (schema
// "tandem.stats/1", documented field by field in docs/METRICS.md). Ratios
// whose denominator is zero are null; durations are integer milliseconds;
// money is USD as a JSON number.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tandem/metrics/report.h"

namespace tandem::metrics {

inline constexpr const char* kStatsSchema = "tandem.stats/1";

// `repo` is the repository whose ledger was read.
nlohmann::ordered_json ReportToJson(const Report& report, const std::string& repo);

}  // namespace tandem::metrics

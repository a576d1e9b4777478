// Order statistics for `tandem stats` (docs/METRICS.md, "Percentiles").
#pragma once

#include <optional>
#include <vector>

namespace tandem::metrics {

// Nearest-rank percentile: with the n samples sorted ascending (1-based),
// the value at rank ceil(p/100 * n). It is always an observed value; the
// median (p = 50) of an even count is the lower of the two middle values.
// Empty when there are no samples. REQUIRES: 0 < p <= 100.
std::optional<double> Percentile(std::vector<double> samples, int p);

}  // namespace tandem::metrics

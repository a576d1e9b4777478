#include "tandem/metrics/percentile.h"

#include <algorithm>
#include <cstdint>

namespace tandem::metrics {

std::optional<double> Percentile(std::vector<double> samples, int p) {
  if (samples.empty()) return std::nullopt;
  const int64_t n = static_cast<int64_t>(samples.size());
  // ceil(p * n / 100) in integers, so no rounding error picks a wrong rank.
  int64_t rank = std::clamp<int64_t>((p * n + 99) / 100, 1, n);
  std::nth_element(samples.begin(), samples.begin() + (rank - 1), samples.end());
  return samples[rank - 1];
}

}  // namespace tandem::metrics

#include "tandem/metrics/window.h"

#include <charconv>

namespace tandem::metrics {
namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Parses exactly `width` digits at text[pos].
bool Digits(std::string_view text, size_t pos, size_t width, int64_t& out) {
  if (pos + width > text.size()) return false;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, out);
  return ec == std::errc() && ptr == text.data() + pos + width;
}

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

Status Bad(std::string_view text) {
  return InvalidArgument("--since '" + std::string(text) +
                         "': expected a duration (30m, 12h, 7d, 2w) or a UTC date "
                         "(2026-11-01 or 2026-11-01T09:30)");
}

}  // namespace

Window AllTime() { return Window{}; }

Result<Window> ParseSince(std::string_view text, int64_t now_ms) {
  if (text.size() >= 2 && text.find('-') == std::string_view::npos) {
    int64_t unit_ms = 0;
    switch (text.back()) {
      case 'm':
        unit_ms = 60'000;
        break;
      case 'h':
        unit_ms = 3'600'000;
        break;
      case 'd':
        unit_ms = 86'400'000;
        break;
      case 'w':
        unit_ms = 7 * 86'400'000LL;
        break;
      default:
        return Bad(text);
    }
    int64_t n = 0;
    std::string_view number = text.substr(0, text.size() - 1);
    if (!Digits(number, 0, number.size(), n) || n > 100'000 * 1000LL) return Bad(text);
    return Window{now_ms - n * unit_ms, std::numeric_limits<int64_t>::max(),
                  "since " + std::string(text) + " ago"};
  }
  int64_t y = 0, m = 0, d = 0, hh = 0, mm = 0;
  if ((text.size() != 10 && text.size() != 16) || !Digits(text, 0, 4, y) || text[4] != '-' ||
      !Digits(text, 5, 2, m) || text[7] != '-' || !Digits(text, 8, 2, d)) {
    return Bad(text);
  }
  if (text.size() == 16 && (text[10] != 'T' || !Digits(text, 11, 2, hh) || text[13] != ':' ||
                            !Digits(text, 14, 2, mm) || hh > 23 || mm > 59)) {
    return Bad(text);
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return Bad(text);
  int64_t ms = (DaysFromCivil(y, m, d) * 86'400 + hh * 3'600 + mm * 60) * 1000;
  return Window{ms, std::numeric_limits<int64_t>::max(), "since " + std::string(text) + " UTC"};
}

}  // namespace tandem::metrics

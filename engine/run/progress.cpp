#include "engine/run/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cfgan {

std::string format_mean_std(const std::vector<double>& values, int decimals) {
  double mean = 0, var = 0;
  for (double x : values) mean += x / double(values.size());
  for (double x : values) var += (x - mean) * (x - mean) / double(std::max<size_t>(1, values.size() - 1));
  char text[64];
  if (values.size() > 1) {
    std::snprintf(text, sizeof text, "%.*f ± %.*f", decimals, mean, decimals, std::sqrt(var));
  } else {
    std::snprintf(text, sizeof text, "%.*f", decimals, mean);
  }
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ldh%02ldm", static_cast<long>(s / 3600), static_cast<long>(s % 3600 / 60));
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%ldm%02lds", static_cast<long>(s / 60), static_cast<long>(s % 60));
  } else {
    std::snprintf(text, sizeof text, "%lds", static_cast<long>(s));
  }
  return text;
}

Progress::Progress(std::string label, int64_t total, double plain_interval_seconds)
    : label_(std::move(label)),
      total_(total),
      plain_interval_(plain_interval_seconds),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, const std::string& fields, double seconds_left) {
  if (start_done_ < 0) start_done_ = done - 1;  // a resumed run measures its own rate
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (since < (terminal_ ? 0.2 : plain_interval_)) return;
  last_print_ = now;
  print(done, fields, seconds_left, false);
}

void Progress::finish(int64_t done, const std::string& fields) {
  if (start_done_ < 0) start_done_ = done;
  print(done, fields, 0.0, true);
}

void Progress::print(int64_t done, const std::string& fields, double seconds_left, bool final) {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done - start_done_) / elapsed : 0.0;
  if (seconds_left < 0) seconds_left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  char head[160];
  std::snprintf(head, sizeof head, "%s %ld/%ld | %.2f it/s | %s %s", label_.c_str(), static_cast<long>(done),
                static_cast<long>(total_), rate, final ? "took" : "left",
                format_duration(final ? elapsed : seconds_left).c_str());
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s | %s%s", head, fields.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s | %s\n", head, fields.c_str());
  }
  std::fflush(stderr);
}

}  // namespace cfgan

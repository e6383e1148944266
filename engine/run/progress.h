// Progress of long work: on a terminal one line redrawn in place (step/total, rate,
// time left, the caller's fields); otherwise plain lines every `plain_interval` seconds,
// so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cfgan {

class Progress {
 public:
  Progress(std::string label, int64_t total, double plain_interval_seconds = 10.0);
  // `done` units finished so far; `fields` e.g. "D 0.83  G 1.92". `seconds_left` < 0:
  // estimated from the rate.
  void update(int64_t done, const std::string& fields, double seconds_left = -1.0);
  void finish(int64_t done, const std::string& fields);
  double elapsed_seconds() const;

 private:
  void print(int64_t done, const std::string& fields, double seconds_left, bool final);
  std::string label_;
  int64_t total_;
  double plain_interval_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int64_t start_done_ = -1;
};

// "1h02m", "3m07s", "12s"
std::string format_duration(double seconds);

// "m ± s" (s: the sample standard deviation, n - 1) of values over seeds; "m" for one value.
std::string format_mean_std(const std::vector<double>& values, int decimals);

// Wall-clock seconds from `start` to now.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace cfgan

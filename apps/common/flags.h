// Command-line flags for the apps: `--name value`, `--name=value`, and bare `--name`
// for booleans. Each getter declares its flag (for --help) and validates the value;
// finish() rejects flags nobody asked for. Errors name the flag and what was expected.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cfgan {

class Flags {
 public:
  Flags(int argc, char** argv, std::string program, std::string summary);

  std::string get(const std::string& name, const std::string& fallback, const std::string& help);
  int64_t get_int(const std::string& name, int64_t fallback, const std::string& help);
  double get_double(const std::string& name, double fallback, const std::string& help);
  bool get_bool(const std::string& name, const std::string& help);                      // present -> true
  std::vector<int32_t> get_int_list(const std::string& name, const std::string& help);  // "0,3,7"
  // "Red,Large" -> {"Red", "Large"}; "" -> {}. An empty item ("Red,,Large") is an error naming the flag.
  std::vector<std::string> get_list(const std::string& name, const std::string& fallback, const std::string& help);
  bool given(const std::string& name) const { return values_.count(name) > 0; }

  // Sets defaults from a previous run's config (flags given now still win).
  void set_defaults(const std::map<std::string, std::string>& values);
  // The effective value of every declared flag, for the run's config.json.
  const std::map<std::string, std::string>& effective() const { return effective_; }

  // Prints usage and exits 0 on --help; otherwise fails on unknown flags.
  void finish();

 private:
  std::string raw(const std::string& name, const std::string& fallback, const std::string& help);
  std::string program_, summary_;
  std::map<std::string, std::string> values_, defaults_, effective_;
  std::vector<std::pair<std::string, std::string>> help_;
  bool want_help_ = false;
};

}  // namespace cfgan

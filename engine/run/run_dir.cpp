#include "engine/run/run_dir.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/error.h"

namespace cfgan {
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> checkpoint_files(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && entry.path().extension() == ".safetensors") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // zero-padded step numbers sort in time order
  return files;
}

// A write killed half way leaves its temporary behind (checkpoints/step_*.safetensors.tmp.PID,
// metrics.jsonl.tmp); the rename that would have published it never happened, so it is garbage.
void remove_interrupted_writes(const fs::path& dir) {
  std::error_code ec;
  fs::remove(dir / "metrics.jsonl.tmp", ec);
  if (!fs::is_directory(dir / "checkpoints")) return;
  for (const auto& entry : fs::directory_iterator(dir / "checkpoints")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.find(".safetensors.tmp.") != std::string::npos)
      fs::remove(entry.path(), ec);
  }
}

std::string numbered(const std::string& dir, int64_t step, const char* extension) {
  char name[64];
  std::snprintf(name, sizeof name, "/step_%06ld%s", static_cast<long>(step), extension);
  return dir + name;
}

}  // namespace

RunDir::RunDir(const std::string& path, bool resuming) : path_(path) {
  if (resuming) {
    CFGAN_CHECK(fs::is_directory(path), "--resume ", path, ": no such run directory");
    CFGAN_CHECK(!checkpoint_files(fs::path(path) / "checkpoints").empty(), "--resume ", path,
                ": the run has no checkpoints/step_*.safetensors to resume from");
  } else {
    CFGAN_CHECK(checkpoint_files(fs::path(path) / "checkpoints").empty(), "--out ", path,
                ": already holds a run with checkpoints; use --resume ", path, " or another --out");
  }
  std::error_code ec;
  fs::create_directories(fs::path(path) / "samples", ec);
  fs::create_directories(fs::path(path) / "checkpoints", ec);
  CFGAN_CHECK(!ec, path, ": cannot create the run directory (", ec.message(), ")");
  remove_interrupted_writes(path);
  // A fresh run starts its own log: lines left by a run killed before its first checkpoint
  // would otherwise repeat its steps. A resumed run keeps the log (truncate_metrics trims it).
  metrics_.open(file("metrics.jsonl"), resuming ? std::ios::app : std::ios::trunc);
  CFGAN_CHECK(metrics_, file("metrics.jsonl"), ": cannot open for writing (", std::strerror(errno), ")");
}

std::string RunDir::sample_path(int64_t step) const { return numbered(path_ + "/samples", step, ".png"); }

std::string RunDir::checkpoint_path(int64_t step) const {
  return numbered(path_ + "/checkpoints", step, ".safetensors");
}

void RunDir::write_config(const std::map<std::string, std::string>& values) const {
  write_text_file(file("config.json"), nlohmann::json(values).dump(2) + "\n");
}

std::map<std::string, std::string> RunDir::read_config() const {
  std::ifstream in(file("config.json"));
  CFGAN_CHECK(in, file("config.json"), ": cannot read the run's configuration");
  try {
    return nlohmann::json::parse(in).get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail(file("config.json"), ": not a cfgan run configuration (", e.what(), ")");
  }
}

void RunDir::append_metrics(const std::string& json_line) {
  metrics_ << json_line << "\n";
  metrics_.flush();
  CFGAN_CHECK(metrics_, file("metrics.jsonl"), ": write failed (", std::strerror(errno), ")");
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  CFGAN_CHECK(out, path, ": cannot open for writing (", std::strerror(errno), ")");
  out << text;
  out.close();  // the data reaches the file system here: a full disk shows now, not never
  CFGAN_CHECK(out, path, ": write failed (", std::strerror(errno), ")");
}

int64_t RunDir::truncate_metrics(int64_t step) {
  const std::string path = file("metrics.jsonl"), tmp = path + ".tmp";
  std::vector<std::string> kept;
  int64_t dropped = 0;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      // A line cut short by a kill is not JSON: it goes too.
      const bool past =
          j.is_discarded() || (j.contains("step") && j["step"].is_number() && j["step"].get<int64_t>() > step);
      if (past)
        ++dropped;
      else
        kept.push_back(line);
    }
  }
  if (dropped == 0) return 0;
  std::string text;
  for (const std::string& line : kept) text += line + "\n";
  write_text_file(tmp, text);
  metrics_.close();
  std::error_code ec;
  fs::rename(tmp, path, ec);
  CFGAN_CHECK(!ec, path, ": cannot replace it with ", tmp, " (", ec.message(), ")");
  metrics_.open(path, std::ios::app);
  CFGAN_CHECK(metrics_, path, ": cannot open for writing");
  return dropped;
}

std::optional<std::string> RunDir::latest_checkpoint() const {
  const auto files = checkpoint_files(fs::path(path_) / "checkpoints");
  if (files.empty()) return std::nullopt;
  return files.back().string();
}

std::string resolve_checkpoint(const std::string& path, const std::string& flag) {
  CFGAN_CHECK(fs::exists(path), flag, " ", path, ": no such file or directory");
  if (!fs::is_directory(path)) return path;
  CFGAN_CHECK(fs::is_directory(fs::path(path) / "checkpoints"), flag, " ", path,
              ": neither a checkpoint file nor a run directory");
  const auto files = checkpoint_files(fs::path(path) / "checkpoints");
  CFGAN_CHECK(!files.empty(), flag, " ", path, ": the run has no checkpoints/step_*.safetensors");
  return files.back().string();
}

void RunDir::keep_newest_checkpoints(int64_t keep) const {
  const auto files = checkpoint_files(fs::path(path_) / "checkpoints");
  for (size_t i = 0; i + static_cast<size_t>(keep) < files.size(); ++i) fs::remove(files[i]);
}

}  // namespace cfgan

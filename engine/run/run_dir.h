// A run directory: config.json, metrics.jsonl, samples/, checkpoints/ (the newest K
// kept), and whatever summary the program writes. Every program writes into one.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace cfgan {

class RunDir {
 public:
  // Creates the directory tree. A fresh run refuses a directory that already holds
  // checkpoints (so nothing is overwritten) and empties metrics.jsonl; a resumed run requires
  // a checkpoint. Both delete the temporaries of writes a kill cut short.
  RunDir(const std::string& path, bool resuming);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string sample_path(int64_t step) const;      // samples/step_000123.png
  std::string checkpoint_path(int64_t step) const;  // checkpoints/step_000123.safetensors

  void write_config(const std::map<std::string, std::string>& values) const;
  std::map<std::string, std::string> read_config() const;
  void append_metrics(const std::string& json_line);  // one JSON object per line, flushed; throws if it fails
  // Drops the lines whose "step" is past `step` (a resumed run's log then never repeats a
  // step); returns how many. The file is replaced atomically.
  int64_t truncate_metrics(int64_t step);

  std::optional<std::string> latest_checkpoint() const;
  void keep_newest_checkpoints(int64_t keep) const;

 private:
  std::string path_;
  std::ofstream metrics_;
};

// Writes `text` to `path`; the error names the file and the system's reason (e.g. a full disk).
void write_text_file(const std::string& path, const std::string& text);

// `path` itself when it is a file; for a run directory its newest checkpoint. Errors
// name `flag` and the path.
std::string resolve_checkpoint(const std::string& path, const std::string& flag);

}  // namespace cfgan

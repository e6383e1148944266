#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/io/image.h"
#include "engine/io/safetensors.h"
#include "engine/run/run_dir.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::error_of;
namespace fs = std::filesystem;

namespace {

class RunDirTest : public cfgan_test::TempDirTest {
 protected:
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
  // `name` made a link to /dev/full, where every write fails with ENOSPC: a full disk.
  void fill_disk_at(const std::string& name) const { fs::create_symlink("/dev/full", path(name)); }
};

const std::string kLines = "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n{\"step\":4,\"d_lo";

}  // namespace

TEST_F(RunDirTest, FreshRunStartsAnEmptyLogAndResumedRunKeepsIt) {
  // A run killed before its first checkpoint leaves a log; starting afresh must not repeat its steps.
  fs::create_directories(dir / "run");
  write("run/metrics.jsonl", kLines);
  {
    RunDir run(path("run"), false);
    run.append_metrics("{\"step\":1}");
  }
  EXPECT_EQ(read("run/metrics.jsonl"), "{\"step\":1}\n");
  save_safetensors(path("run/checkpoints/step_000001.safetensors"), {{"w", Tensor::ones({1})}});
  RunDir resumed(path("run"), true);
  resumed.append_metrics("{\"step\":2}");
  EXPECT_EQ(read("run/metrics.jsonl"), "{\"step\":1}\n{\"step\":2}\n");
}

TEST_F(RunDirTest, TruncateMetricsDropsLinesPastTheStepAndCutLines) {
  RunDir run(path("run"), false);
  write("run/metrics.jsonl", kLines);
  EXPECT_EQ(run.truncate_metrics(2), 2);  // step 3 and the cut-short step-4 line
  run.append_metrics("{\"step\":3,\"again\":true}");
  EXPECT_EQ(read("run/metrics.jsonl"), "{\"step\":1}\n{\"step\":2}\n{\"step\":3,\"again\":true}\n");
  EXPECT_EQ(run.truncate_metrics(3), 0);
  EXPECT_FALSE(fs::exists(path("run/metrics.jsonl.tmp")));
}

TEST_F(RunDirTest, TemporariesOfInterruptedWritesAreRemoved) {
  fs::create_directories(dir / "run" / "checkpoints");
  save_safetensors(path("run/checkpoints/step_000004.safetensors"), {{"w", Tensor::ones({2})}});
  write("run/checkpoints/step_000008.safetensors.tmp.4242", "half a checkpoint");
  write("run/metrics.jsonl.tmp", "{\"step\":1}\n");
  write("run/checkpoints/notes.txt", "not ours");
  RunDir run(path("run"), true);
  EXPECT_FALSE(fs::exists(path("run/checkpoints/step_000008.safetensors.tmp.4242")));
  EXPECT_FALSE(fs::exists(path("run/metrics.jsonl.tmp")));
  EXPECT_TRUE(fs::exists(path("run/checkpoints/notes.txt")));
  EXPECT_EQ(run.latest_checkpoint(), path("run/checkpoints/step_000004.safetensors"));
}

TEST_F(RunDirTest, FullDiskIsReportedByEveryWriter) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full to stand for a full disk";
  fs::create_directories(dir / "run");
  fill_disk_at("run/metrics.jsonl");
  RunDir run(path("run"), false);
  EXPECT_NE(error_of([&] { run.append_metrics("{\"step\":1}"); }).find("metrics.jsonl: write failed (No space left"),
            std::string::npos);

  fill_disk_at("summary.txt");
  EXPECT_NE(error_of([&] { write_text_file(path("summary.txt"), "steps: 1\n"); }).find("No space left on device"),
            std::string::npos);

  fill_disk_at("grid.png");
  const Image image{4, 4, 1, std::vector<uint8_t>(16, 7)};
  EXPECT_NE(error_of([&] {
              write_png(path("grid.png"), image);
            }).find("grid.png: cannot write PNG file (No space left on device)"),
            std::string::npos);

  // The checkpoint's temporary fills the disk: the previous checkpoint stays, no temporary is left.
  save_safetensors(path("ck.safetensors"), {{"w", Tensor::ones({3})}});
  fill_disk_at("ck.safetensors.tmp." + std::to_string(::getpid()));
  EXPECT_NE(error_of([&] {
              save_safetensors(path("ck.safetensors"), {{"w", Tensor::zeros({3})}});
            }).find("No space left on device"),
            std::string::npos);
  EXPECT_EQ(load_safetensors(path("ck.safetensors")).tensors.at("w").to_host(), (std::vector<float>{1, 1, 1}));
  EXPECT_FALSE(fs::exists(fs::symlink_status(path("ck.safetensors.tmp." + std::to_string(::getpid())))));
}

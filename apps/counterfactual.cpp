// counterfactual: a CDVAE-GAN's counterfactual images — encode, flip attribute codes,
// decode. For each image it writes the original, the reconstruction and one image per
// flipped attribute, and a grid of them all (a row per image).
//
//   counterfactual --checkpoint runs/cdvae --images worlds/test --n 16 --flip Red,Large --out cf/
//   counterfactual --checkpoint runs/cdvae --n 16 --flip Round --out cf/     # prior samples as originals
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/ops.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/cdvae/trainer.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

// The first `n` images under `dir` (any depth, sorted by path) as (n, C, S, S) in [-1, 1];
// each must already be the model's size.
Tensor read_images(const std::string& dir, int64_t n, const CdvaeSpec& spec, std::vector<std::string>& names) {
  CFGAN_CHECK(fs::is_directory(dir), "--images ", dir, ": not a directory");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  CFGAN_CHECK(!files.empty(), "--images ", dir, ": no .png/.jpg images in it");
  files.resize(std::min<size_t>(files.size(), static_cast<size_t>(n)));
  const int64_t s = spec.image_size, c = spec.channels;
  std::vector<float> values;
  for (const fs::path& f : files) {
    const Image img = read_image(f.string(), c);
    CFGAN_CHECK(img.width == s && img.height == s, f.string(), ": the image is ", img.width, "x", img.height,
                ", the model makes ", s, "x", s, " images");
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < s * s; ++p) values.push_back(img.pixels[p * c + ch] * (2.0f / 255.0f) - 1.0f);
    names.push_back(f.stem().string());
  }
  return Tensor::from_host({static_cast<int64_t>(files.size()), c, s, s}, values);
}

int run(int argc, char** argv) {
  Flags flags(argc, argv, "counterfactual", "CDVAE-GAN counterfactual images: encode, flip attribute codes, decode");
  const std::string checkpoint_flag = flags.get("checkpoint", "", "train_cdvae run directory or checkpoint");
  const std::string images_dir = flags.get("images", "", "a folder of images (any depth); default: prior samples");
  const int64_t n = flags.get_int("n", 16, "images (the first n of --images)");
  std::vector<std::string> flip_names =
      flags.get_list("flip", "", "attributes to flip, one at a time, e.g. Red,Large (default all)");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of the prior samples"));
  const int64_t zoom = flags.get_int("zoom", 3, "grid.png scaled by this factor, so small images can be looked at");
  const std::string out = flags.get("out", "", "output folder");
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!checkpoint_flag.empty() && !out.empty(), "--checkpoint and --out are required (see --help)");
  CFGAN_CHECK(n >= 1, "--n: must be >= 1, got ", n);
  CFGAN_CHECK(zoom >= 1 && zoom <= 16, "--zoom: expected 1..16, got ", zoom);
  const std::string checkpoint = resolve_checkpoint(checkpoint_flag, "--checkpoint");
  const std::shared_ptr<CdvaeGan> model = load_cdvae(checkpoint);
  const CdvaeSpec& spec = model->spec();

  if (flip_names.empty()) flip_names = spec.attributes;
  std::vector<int> flips;
  for (const std::string& name : flip_names) flips.push_back(spec.attribute_index(name, "--flip"));

  std::vector<std::string> stems;
  Tensor originals;
  if (!images_dir.empty()) {
    originals = read_images(images_dir, n, spec, stems);
  } else {
    Generator gen(seed);
    std::vector<float> codes = Tensor::rand({n, spec.num_attributes()}, gen).to_host();
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = codes[i] < spec.prior[i % spec.prior.size()] ? 1.0f : 0.0f;
    NoGrad no_grad;
    originals =
        model->decode(Tensor::randn({n, spec.z_dim}, gen), Tensor::from_host({n, spec.num_attributes()}, codes));
    for (int64_t i = 0; i < n; ++i) stems.push_back(cat("prior_", i + 1));
  }
  const int64_t count = originals.dim(0), cols = 2 + static_cast<int64_t>(flips.size());
  const Tensor grid = counterfactual_grid(*model, originals, flips);  // row after row
  fs::create_directories(out);
  std::vector<std::string> suffixes{"original", "reconstruction"};
  for (const std::string& f : flip_names) suffixes.push_back("flip_" + f);
  for (int64_t i = 0; i < count; ++i)
    for (int64_t c = 0; c < cols; ++c)
      write_png((fs::path(out) / (stems[i] + "_" + suffixes[c] + ".png")).string(),
                image_from_tensor(
                    reshape(narrow(grid, 0, i * cols + c, 1), {spec.channels, spec.image_size, spec.image_size})));
  const std::string grid_path = (fs::path(out) / "grid.png").string();
  const Image tiles = image_grid(grid, cols);
  write_png(grid_path, resize_image(tiles, tiles.width * zoom, tiles.height * zoom));
  std::printf(
      "counterfactual: %ld images x (original, reconstruction, %zu flips) in %s\n  grid: %s (columns: "
      "original | reconstruction",
      static_cast<long>(count), flips.size(), out.c_str(), grid_path.c_str());
  for (const std::string& f : flip_names) std::printf(" | %s flipped", f.c_str());
  std::printf(")\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("counterfactual", run, argc, argv); }

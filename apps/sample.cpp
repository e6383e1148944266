// sample: draws images from a train_gan checkpoint. Writes N individual PNG files (the
// form FID tools read), a grid, and latent-interpolation strips.
//
//   sample --checkpoint runs/fmnist --n 1000 --out runs/fmnist/generated
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/engine.h"
#include "engine/io/image.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/gan.h"
#include "models/gan_trainer.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

// Spherical interpolation keeps interpolated noise at the norm Gaussian samples have.
Tensor slerp(const std::vector<float>& a, const std::vector<float>& b, float t) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  const double omega = std::acos(std::clamp(dot / std::sqrt(na * nb), -1.0, 1.0));
  std::vector<float> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    out[i] =
        omega < 1e-6
            ? a[i] + t * (b[i] - a[i])
            : static_cast<float>((std::sin((1 - t) * omega) * a[i] + std::sin(t * omega) * b[i]) / std::sin(omega));
  }
  return Tensor::from_host({1, static_cast<int64_t>(a.size())}, out);
}

int run(int argc, char** argv) {
  Flags flags(argc, argv, "sample", "draw images from a train_gan checkpoint");
  const std::string checkpoint_flag = flags.get("checkpoint", "", "checkpoint file or run directory");
  const int64_t n = flags.get_int("n", 64, "number of images");
  const std::string out = flags.get("out", "", "output directory");
  const int64_t label = flags.get_int("class", -1, "class of every image (conditional models; -1: cycle)");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "noise seed"));
  const int64_t columns = flags.get_int("columns", 8, "grid columns");
  const int64_t grid_max = flags.get_int("grid", 64, "images in grid.png at most (the PNG folder has them all)");
  const int64_t strips = flags.get_int("interpolations", 8, "latent interpolation strips");
  const int64_t strip_steps = flags.get_int("interpolation-steps", 10, "images per strip");
  const Device device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!checkpoint_flag.empty(), "--checkpoint: a train_gan checkpoint or run directory is required");
  CFGAN_CHECK(!out.empty(), "--out: an output directory is required");
  const std::string checkpoint = resolve_checkpoint(checkpoint_flag, "--checkpoint");
  CFGAN_CHECK(n >= 1 && columns >= 1 && grid_max >= 1 && strips >= 0 && strip_steps >= 2,
              "--n, --columns and --grid must be >= 1, --interpolations >= 0, --interpolation-steps >= 2");

  const LoadedGenerator loaded = load_generator(checkpoint);
  const GanSpec& spec = loaded.spec;
  CFGAN_CHECK(label < spec.num_classes, "--class ", label, ": the model ",
              spec.num_classes ? "has classes 0-" + std::to_string(spec.num_classes - 1) : "is not conditional");
  GanGenerator* g = loaded.model.get();
  g->to(device);
  NoGrad no_grad;
  fs::create_directories(out);

  auto labels_for = [&](int64_t first, int64_t count) {
    std::vector<int32_t> labels;
    if (spec.num_classes == 0) return labels;
    for (int64_t i = first; i < first + count; ++i) labels.push_back(label >= 0 ? label : i % spec.num_classes);
    return labels;
  };
  Generator noise(seed);
  std::vector<Tensor> batches;
  for (int64_t first = 0; first < n; first += 64) {
    const int64_t count = std::min<int64_t>(64, n - first);
    const Tensor images = g->generate(Tensor::randn({count, spec.z_dim}, noise, device), labels_for(first, count));
    for (int64_t i = 0; i < count; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "/%06ld.png", static_cast<long>(first + i));
      write_png(out + name,
                image_from_tensor(reshape(narrow(images, 0, i, 1), {spec.channels, spec.image_size, spec.image_size})));
    }
    batches.push_back(images);
  }
  const Tensor all = concat(batches, 0);
  write_png(out + "/grid.png", image_grid(narrow(all, 0, 0, std::min(grid_max, all.dim(0))), columns));

  if (strips > 0) {
    std::vector<Tensor> rows;
    for (int64_t s = 0; s < strips; ++s) {
      const std::vector<float> a = Tensor::randn({spec.z_dim}, noise).to_host();
      const std::vector<float> b = Tensor::randn({spec.z_dim}, noise).to_host();
      std::vector<Tensor> zs;
      for (int64_t t = 0; t < strip_steps; ++t) zs.push_back(slerp(a, b, float(t) / float(strip_steps - 1)));
      const std::vector<int32_t> row_labels =
          spec.num_classes ? std::vector<int32_t>(strip_steps, label >= 0 ? label : s % spec.num_classes)
                           : std::vector<int32_t>{};
      rows.push_back(g->generate(concat(zs, 0).to(device), row_labels));
    }
    write_png(out + "/interpolation.png", image_grid(concat(rows, 0), strip_steps));
  }
  std::printf("sample: %ld images from %s\n  files: %s/000000.png ...\n  grid:  %s/grid.png\n", static_cast<long>(n),
              checkpoint.c_str(), out.c_str(), out.c_str());
  if (strips > 0) std::printf("  interpolations: %s/interpolation.png\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("sample", run, argc, argv); }

// train_gan: trains a GAN on Fashion-MNIST or a folder of images and writes a run
// directory: config.json, metrics.jsonl, samples/step_*.png (a grid from one fixed noise
// batch), checkpoints/ (atomic safetensors, newest kept), loss.png and summary.txt.
//
//   train_gan --steps 3000 --out runs/fmnist
//   train_gan --resume runs/fmnist --steps 6000     # continue exactly where it stopped
#include <omp.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/data/dataset.h"
#include "engine/engine.h"
#include "engine/io/image.h"
#include "engine/io/plot.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "models/gan_trainer.h"

using namespace cfgan;

namespace {

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C stops at once
}

ImageDataset load_data(const std::string& data, int64_t image_size, int64_t channels,
                       const std::vector<int32_t>& classes, int64_t per_class, uint64_t seed) {
  ImageDataset set = data == "fashion-mnist" ? load_fashion_mnist(kFashionMnistDir, "train")
                                             : load_image_folder(data, image_size, channels);
  if (!classes.empty() || per_class > 0) set = select_subset(set, classes, per_class, seed);
  return resize_images(set, image_size);
}

// The classes a conditional sample grid cycles through: those present in the data.
std::vector<int32_t> grid_labels(const ImageDataset& data, int64_t n) {
  std::vector<int32_t> present;
  for (int32_t c = 0; c < data.num_classes(); ++c) {
    if (std::find(data.labels.begin(), data.labels.end(), c) != data.labels.end()) present.push_back(c);
  }
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(present[i % present.size()]);
  return labels;
}

// "nan", "inf", "-inf" or the value: the same words whatever the sign of a NaN.
std::string describe(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

void write_loss_plot(const RunDir& run) {
  Series d{.label = "D loss", .color = palette_color(3), .opacity = 0.25};
  Series g{.label = "G loss", .color = palette_color(0), .opacity = 0.25};
  std::ifstream in(run.file("metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("d_loss")) continue;
    d.x.push_back(j["step"].get<double>());
    d.y.push_back(j["d_loss"].get<double>());
    g.x.push_back(j["step"].get<double>());
    g.y.push_back(j["g_loss"].get<double>());
  }
  // Raw curves faint behind their moving averages.
  Series d_avg = d, g_avg = g;
  const size_t window = std::max<size_t>(1, d.y.size() / 50);
  d_avg.y = moving_average(d.y, window);
  g_avg.y = moving_average(g.y, window);
  d_avg.opacity = g_avg.opacity = 1.0;
  d.label = g.label = "";
  write_plot_png(run.file("loss.png"), {d, g, d_avg, g_avg},
                 {.title = "GAN losses", .x_label = "step", .y_label = "loss"});
}

int run(int argc, char** argv) {
  const auto launched = std::chrono::steady_clock::now();
  Flags flags(argc, argv, "train_gan", "train a GAN and write a run directory");
  const std::string resume = flags.get("resume", "", "continue the run in this directory from its newest checkpoint");
  std::optional<RunDir> resumed;
  if (!resume.empty()) {
    resumed.emplace(resume, true);
    flags.set_defaults(resumed->read_config());
  }
  const std::string data_name = flags.get("data", "fashion-mnist", "fashion-mnist, or a folder root/<class>/*.png");
  const std::vector<int32_t> classes = flags.get_int_list("classes", "keep only these classes, e.g. 0,3,7");
  const int64_t per_class = flags.get_int("per-class", 0, "images per class (0: all)");
  const bool folder = data_name != "fashion-mnist";
  const int64_t image_size = flags.get_int("image-size", folder ? 64 : 28, "28 (reference DCGAN), 32 or 64");
  const int64_t channels = flags.get_int("channels", folder ? 3 : 1, "image channels for folders: 1 or 3");
  GanTrainConfig config;
  config.spec.discriminator = flags.get("model", "dcgan", "discriminator: dcgan (batch norm) or sngan (spectral norm)");
  const bool conditional = flags.get_bool("conditional", "class-conditional G and projection D");
  config.spec.z_dim = flags.get_int("z-dim", 100, "noise dimensions");
  config.spec.width = flags.get_int("width", 64, "base channel width of G and D");
  config.loss = parse_gan_loss(flags.get("loss", "bce", "bce (non-saturating) or hinge"));
  config.batch = flags.get_int("batch", 64, "batch size");
  const int64_t steps = flags.get_int("steps", 3000, "total training steps (D + G update each)");
  const double minutes = flags.get_double("minutes", 0, "stop after this many minutes (0: no limit)");
  config.lr_g = config.lr_d = static_cast<float>(flags.get_double("lr", 2e-4, "Adam learning rate of G and D"));
  const std::string betas = flags.get("betas", "0.5,0.999", "Adam betas");
  config.ema_decay = static_cast<float>(flags.get_double("ema-decay", 0.999, "EMA of G's weights (0: off)"));
  const bool ur = flags.get_bool("ur", "add Uniformity Regularization (distribution level) to G's loss");
  const bool er = flags.get_bool("er", "add Entropy Regularization (sample level) to G's loss");
  const double ur_weight = flags.get_double("ur-weight", 0.2, "weight of UR(f_G) + UR(f_D)");
  const double er_weight = flags.get_double("er-weight", 0.5, "weight of ER(f_G) + ER(f_D)");
  const std::vector<int32_t> reg_layers =
      flags.get_int_list("reg-layers", "feature blocks of G and D for UR/ER, e.g. 1,1 (default: the models' own)");
  config.seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of weights, data order and noise"));
  config.device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  const int64_t threads = flags.get_int("threads", omp_get_max_threads(), "CPU threads");
  const std::string out = flags.get("out", "runs/train_gan", "run directory");
  const int64_t log_every = flags.get_int("log-every", 10, "steps between metrics.jsonl lines");
  const int64_t sample_every = flags.get_int("sample-every", 250, "steps between sample grids");
  const int64_t checkpoint_every = flags.get_int("checkpoint-every", 500, "steps between checkpoints");
  const int64_t keep = flags.get_int("keep", 3, "checkpoints kept");
  flags.finish();

  CFGAN_CHECK(steps >= 1, "--steps: must be >= 1, got ", steps);
  CFGAN_CHECK(threads >= 1, "--threads: must be >= 1, got ", threads);
  CFGAN_CHECK(log_every >= 1 && sample_every >= 1 && checkpoint_every >= 1 && keep >= 1,
              "--log-every, --sample-every, --checkpoint-every and --keep must be >= 1");
  CFGAN_CHECK(std::sscanf(betas.c_str(), "%f,%f", &config.beta1, &config.beta2) == 2, "--betas: expected two ",
              "numbers like 0.5,0.999, got '", betas, "'");
  omp_set_num_threads(static_cast<int>(threads));
  CFGAN_CHECK(ur_weight > 0 && er_weight > 0, "--ur-weight and --er-weight must be positive, got ", ur_weight,
              " and ", er_weight);
  CFGAN_CHECK(reg_layers.empty() || reg_layers.size() == 2, "--reg-layers: expected two block numbers G,D, got ",
              reg_layers.size());
  config.reg.ur_weight = ur ? static_cast<float>(ur_weight) : 0.0f;
  config.reg.er_weight = er ? static_cast<float>(er_weight) : 0.0f;
  if (!reg_layers.empty()) config.reg.g_block = reg_layers[0], config.reg.d_block = reg_layers[1];

  const ImageDataset data = load_data(data_name, image_size, channels, classes, per_class, config.seed);
  const double load_seconds = seconds_since(launched);
  config.spec.image_size = image_size;
  config.spec.channels = data.channels;
  config.spec.num_classes = conditional ? data.num_classes() : 0;
  RunDir run = resumed ? std::move(*resumed) : RunDir(out, false);
  run.write_config(flags.effective());

  GanTrainer trainer(config, data);
  if (!resume.empty()) {
    const std::string checkpoint = *run.latest_checkpoint();
    trainer.load(checkpoint);
    std::printf("train_gan: resumed %s at step %ld\n", checkpoint.c_str(), static_cast<long>(trainer.steps_done()));
  }
  std::printf("train_gan: %ld images (%s), %ldx%ldx%ld, model %s%s, loss %s%s%s, batch %ld, device %s, %ld threads\n",
              static_cast<long>(data.count), data.source.c_str(), static_cast<long>(data.channels),
              static_cast<long>(image_size), static_cast<long>(image_size), config.spec.discriminator.c_str(),
              conditional ? " (conditional)" : "", gan_loss_name(config.loss), ur ? " + UR" : "", er ? " + ER" : "",
              static_cast<long>(config.batch),
              device_name(config.device), static_cast<long>(threads));
  std::printf("train_gan: writing %s (data loaded in %.2f s, first step %.2f s after start)\n", run.path().c_str(),
              load_seconds, seconds_since(launched));
  std::fflush(stdout);

  Generator fixed_noise(config.seed + 1000);
  const Tensor z_fixed = Tensor::randn({64, config.spec.z_dim}, fixed_noise, config.device);
  const std::vector<int32_t> labels_fixed = grid_labels(data, 64);
  auto write_samples = [&] {
    write_png(run.sample_path(trainer.steps_done()), image_grid(trainer.sample(z_fixed, labels_fixed), 8));
  };
  std::string last_checkpoint = run.latest_checkpoint().value_or("");
  auto save_checkpoint = [&] {
    last_checkpoint = run.checkpoint_path(trainer.steps_done());
    trainer.save(last_checkpoint);
    run.keep_newest_checkpoints(keep);
  };

  std::signal(SIGINT, on_interrupt);
  Progress progress("step", steps);
  GanStepStats stats;
  char fields[160] = "";
  while (trainer.steps_done() < steps && !g_interrupted) {
    if (minutes > 0 && progress.elapsed_seconds() > minutes * 60) break;
    stats = trainer.step();
    const int64_t step = trainer.steps_done();
    if (!std::isfinite(stats.d_loss) || !std::isfinite(stats.g_loss)) {
      const bool d_bad = !std::isfinite(stats.d_loss);
      std::fprintf(stderr, "\ntrain_gan: step %ld: %s loss is %s (D %s, G %s); training stopped. %s\n",
                   static_cast<long>(step), d_bad ? "D" : "G", describe(d_bad ? stats.d_loss : stats.g_loss).c_str(),
                   describe(stats.d_loss).c_str(), describe(stats.g_loss).c_str(),
                   last_checkpoint.empty() ? "No checkpoint was written yet."
                                           : ("Last good checkpoint: " + last_checkpoint).c_str());
      return 1;
    }
    std::snprintf(fields, sizeof fields, "D %.3f  G %.3f  D(x) %.2f  D(G(z)) %.2f", stats.d_loss, stats.g_loss,
                  stats.d_real, stats.d_fake);
    if (step % log_every == 0) {
      nlohmann::json line{{"step", step},         {"d_loss", stats.d_loss}, {"g_loss", stats.g_loss},
                          {"d_real", stats.d_real}, {"d_fake", stats.d_fake}, {"seconds", progress.elapsed_seconds()}};
      if (config.reg.enabled()) {
        line.update({{"ur_g", stats.ur_g}, {"ur_d", stats.ur_d}, {"er_g", stats.er_g}, {"er_d", stats.er_d},
                     {"log_norm_g", stats.log_norm_g}, {"log_norm_d", stats.log_norm_d}});
      }
      run.append_metrics(line.dump());
    }
    if (step % sample_every == 0) write_samples();
    if (step % checkpoint_every == 0) save_checkpoint();
    const double left = minutes > 0 ? minutes * 60 - progress.elapsed_seconds() : -1.0;
    progress.update(step, fields, left);
  }
  progress.finish(trainer.steps_done(), fields);

  if (last_checkpoint != run.checkpoint_path(trainer.steps_done())) save_checkpoint();
  write_samples();
  write_loss_plot(run);
  const std::string grid = run.sample_path(trainer.steps_done());
  std::ofstream(run.file("summary.txt")) << "steps: " << trainer.steps_done() << "\nlast losses: " << fields
                                          << "\nsample grid: " << grid << "\ncheckpoint: " << last_checkpoint
                                          << "\nloss plot: " << run.file("loss.png") << "\n";
  if (g_interrupted) {
    std::printf("train_gan: interrupted at step %ld; checkpoint saved: %s\n  continue with: train_gan --resume %s\n",
                static_cast<long>(trainer.steps_done()), last_checkpoint.c_str(), run.path().c_str());
    return 130;
  }
  std::printf("train_gan: done, %ld steps\n  samples:    %s\n  checkpoint: %s\n  loss plot:  %s\n",
              static_cast<long>(trainer.steps_done()), grid.c_str(), last_checkpoint.c_str(),
              run.file("loss.png").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("train_gan", run, argc, argv); }

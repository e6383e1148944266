// trace_step: one training step of the reference DCGAN (models/gan.h, the model train_gan
// trains by default) taken apart: the models, the batch, the tape each loss records with
// every tensor's shape and values, the gradients each backward leaves, Adam's first
// update, and a check that the traced step is exactly gan_train_step's. The output is
// Markdown in named blocks; docs/how-a-gan-trains.md holds them between
// <!-- trace:NAME --> and <!-- /trace:NAME -->, so its numbers come from this program:
//
//   trace_step                                     # print every block
//   trace_step --check docs/how-a-gan-trains.md    # exit 1 naming the first difference
//   trace_step --write docs/how-a-gan-trains.md    # replace the doc's blocks
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/autograd.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/engine.h"
#include "engine/nn/init.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/gan.h"
#include "models/gan_loss.h"
#include "models/gan_trainer.h"

using namespace cfgan;

namespace {

constexpr uint64_t kSeed = 1;
constexpr int64_t kBatch = 64;

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

// Activation means and spreads with 4 decimals: a batch-normalized mean is zero up to
// rounding noise (1e-9 .. 1e-5) that differs from build to build.
std::string fixed(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", std::fabs(v) < 5e-5 ? 0.0 : v);
  return text;
}

struct Summary {
  double mean = 0, std = 0, min = INFINITY, max = -INFINITY;
};

Summary summarize(const Tensor& t) {
  const std::vector<float> v = t.to_host();
  Summary s;
  for (float x : v) s.mean += x, s.min = std::min<double>(s.min, x), s.max = std::max<double>(s.max, x);
  s.mean /= static_cast<double>(v.size());
  for (float x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  return s;
}

double l2_norm(const Tensor& t) {
  double total = 0;
  for (float x : t.to_host()) total += static_cast<double>(x) * x;
  return std::sqrt(total);
}

// The name a leaf of the tape is shown with: parameters and buffers by module path, the
// step's inputs by what they are.
using LeafNames = std::map<const TensorImpl*, std::string>;

void name_module(LeafNames& names, const std::string& prefix, const Module& m) {
  for (const auto& [name, t] : m.state_dict()) names[t.impl()] = prefix + name;
}

// The tensors the tape below `root` holds, in the order they were made: every op after
// the tensors it read.
std::vector<Tensor> recorded_order(const Tensor& root) {
  std::vector<Tensor> order;
  std::set<const TensorImpl*> seen;
  std::function<void(const Tensor&)> visit = [&](const Tensor& t) {
    if (!t.defined() || !seen.insert(t.impl()).second) return;  // an op's optional input may be undefined
    if (const auto& node = t.impl()->grad_fn) {
      for (const Tensor& input : node->inputs) visit(input);
    }
    order.push_back(t);
  };
  visit(root);
  return order;
}

// The tape as a table (one row per recorded op: its output's shape and values, what it
// read) and as a Mermaid graph. Must run before backward(), which frees the tape.
std::string tape_table(const Tensor& root, const LeafNames& names) {
  const std::vector<Tensor> order = recorded_order(root);
  std::map<const TensorImpl*, int> row;
  std::ostringstream out;
  out << "| # | op | output shape | mean | std | reads |\n|---|---|---|---|---|---|\n";
  auto leaf_name = [&](const Tensor& t) {
    const auto it = names.find(t.impl());
    std::string name = it != names.end() ? it->second : "constant " + t.shape().str();
    if (!t.requires_grad()) name += " (no grad)";
    return name;
  };
  for (const Tensor& t : order) {
    if (!t.impl()->grad_fn) continue;
    const int k = static_cast<int>(row.size()) + 1;
    row[t.impl()] = k;
    const Summary s = summarize(t);
    out << "| " << k << " | " << t.impl()->grad_fn->name << " | " << t.shape().str() << " | " << fixed(s.mean) << " | "
        << fixed(s.std) << " | ";
    const char* sep = "";
    for (const Tensor& in : t.impl()->grad_fn->inputs) {
      if (!in.defined()) continue;
      out << sep;
      if (row.count(in.impl())) {
        out << '#' << row[in.impl()];
      } else {
        out << leaf_name(in);
      }
      sep = ", ";
    }
    out << " |\n";
  }
  return out.str();
}

std::string tape_graph(const Tensor& root, const LeafNames& names) {
  const std::vector<Tensor> order = recorded_order(root);
  std::map<const TensorImpl*, std::string> id;
  std::ostringstream out;
  out << "```mermaid\nflowchart TB\n";
  for (const Tensor& t : order) {
    const std::string key = (t.impl()->grad_fn ? "op" : "in") + std::to_string(id.size());
    id[t.impl()] = key;
    if (t.impl()->grad_fn) {
      out << "  " << key << "[\"" << t.impl()->grad_fn->name << "<br/>" << t.shape().str() << "\"]\n";
      for (const Tensor& in : t.impl()->grad_fn->inputs) {
        if (in.defined()) out << "  " << id[in.impl()] << " --> " << key << "\n";
      }
    } else {
      const auto it = names.find(t.impl());
      out << "  " << key << "([\"" << (it != names.end() ? it->second : "constant " + t.shape().str()) << "\"])\n";
    }
  }
  out << "```\n";
  return out.str();
}

std::string parameter_table(const std::string& prefix, const Module& m) {
  std::ostringstream out;
  out << "| " << prefix << " parameter | shape | values |\n|---|---|---|\n";
  for (const auto& [name, t] : m.named_parameters())
    out << "| " << prefix << name << " | " << t.shape().str() << " | " << t.numel() << " |\n";
  out << "| total | | " << m.parameter_count() << " |\n";
  return out.str();
}

// Each parameter's gradient norm.
std::string gradient_table(const std::string& prefix, const Module& m) {
  std::ostringstream out;
  out << "| " << prefix << " parameter | gradient norm |\n|---|---|\n";
  for (const auto& [name, t] : m.named_parameters()) {
    out << "| " << prefix << name << " | " << (t.grad().defined() ? num(l2_norm(t.grad())) : "none") << " |\n";
  }
  return out.str();
}

int count_with_gradient(const Module& m) {
  int n = 0;
  for (const Tensor& t : m.parameters()) n += t.grad().defined();
  return n;
}

// Adam's first update moves each weight by lr * g / (|g| + eps): lr itself wherever |g|
// dwarfs eps. The table shows |change| / lr per parameter, before = the values before step().
std::string update_table(const std::string& prefix, const Module& m, const std::map<std::string, Tensor>& before,
                         float lr) {
  std::ostringstream out;
  out << "| " << prefix << " parameter | mean abs(change) / lr | smallest | largest |\n|---|---|---|---|\n";
  for (const auto& [name, t] : m.named_parameters()) {
    const std::vector<float> now = t.to_host(), was = before.at(name).to_host();
    Summary s;
    for (size_t i = 0; i < now.size(); ++i) {
      const double ratio = std::fabs(now[i] - was[i]) / lr;
      s.mean += ratio, s.min = std::min(s.min, ratio), s.max = std::max(s.max, ratio);
    }
    out << "| " << prefix << name << " | " << num(s.mean / now.size()) << " | " << num(s.min) << " | " << num(s.max)
        << " |\n";
  }
  return out.str();
}

std::map<std::string, Tensor> snapshot(const Module& m) {
  std::map<std::string, Tensor> copy;
  for (const auto& [name, t] : m.state_dict()) copy[name] = Tensor::from_host(t.shape(), t.to_host());
  return copy;
}

double largest_difference(const Module& a, const Module& b) {
  const NamedTensors sa = a.state_dict(), sb = b.state_dict();
  double worst = 0;
  for (size_t i = 0; i < sa.size(); ++i) {
    const std::vector<float> va = sa[i].second.to_host(), vb = sb[i].second.to_host();
    for (size_t j = 0; j < va.size(); ++j) worst = std::max(worst, std::fabs(static_cast<double>(va[j]) - vb[j]));
  }
  return worst;
}

struct Models {
  std::shared_ptr<GanGenerator> g;
  std::shared_ptr<GanDiscriminator> d;
};

// What GanTrainer does with --seed 1: layer defaults from the global generator, then
// DCGAN's N(0, 0.02) convolutions and N(1, 0.02) batch-norm scales.
Models make_models(const GanSpec& spec) {
  manual_seed(kSeed);
  Models m{make_generator(spec), make_discriminator(spec)};
  Generator init(kSeed);
  dcgan_init(*m.g, init);
  dcgan_init(*m.d, init);
  return m;
}

using Blocks = std::vector<std::pair<std::string, std::string>>;

Blocks trace() {
  Blocks blocks;
  const GanSpec spec;  // the reference DCGAN: 28 px, 1 channel, z 100, width 64
  const ImageDataset data = load_fashion_mnist(kFashionMnistDir, "train");
  DataLoader loader(data, kBatch, kSeed);
  Generator noise(kSeed + 1);
  const Tensor real = loader.next().images;
  const Tensor z = Tensor::randn({kBatch, spec.z_dim}, noise);
  Models m = make_models(spec);
  GanGenerator& g = *m.g;
  GanDiscriminator& d = *m.d;
  const AdamOptions adam{.lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f};
  Adam opt_g(g.named_parameters(), adam), opt_d(d.named_parameters(), adam);

  blocks.emplace_back("models", parameter_table("G.", g) + "\n" + parameter_table("D.", d));
  const Summary sr = summarize(real), sz = summarize(z);
  blocks.emplace_back(
      "batch", "| tensor | shape | mean | std | min | max |\n|---|---|---|---|---|---|\n| x (real images) | " +
                   real.shape().str() + " | " + num(sr.mean) + " | " + num(sr.std) + " | " + num(sr.min) + " | " +
                   num(sr.max) + " |\n| z (noise) | " + z.shape().str() + " | " + num(sz.mean) + " | " + num(sz.std) +
                   " | " + num(sz.min) + " | " + num(sz.max) + " |\n");
  LeafNames names;
  name_module(names, "G.", g);
  name_module(names, "D.", d);
  names[real.impl()] = "x";
  names[z.impl()] = "z";

  // ---- the D step, as gan_train_step takes it ----
  opt_d.zero_grad();
  const Tensor fake = g.generate(z);
  const Tensor fake_detached = fake.detach();
  names[fake_detached.impl()] = "G(z) detached";
  const Tensor real_logits = d.score(real, {});
  const Tensor fake_logits = d.score(fake_detached, {});
  const Tensor d_loss = discriminator_loss(GanLoss::bce, real_logits, fake_logits);
  blocks.emplace_back("d_tape", tape_table(d_loss, names));
  blocks.emplace_back("d_graph", tape_graph(d_loss, names));
  const double d_real = summarize(sigmoid(real_logits.detach())).mean;
  const double d_fake = summarize(sigmoid(fake_logits.detach())).mean;
  d_loss.backward();
  blocks.emplace_back("d_grads", gradient_table("D.", d) + "\nG parameters with a gradient after this backward: " +
                                     std::to_string(count_with_gradient(g)) + " of " +
                                     std::to_string(g.parameters().size()) + "\n");
  const auto d_before = snapshot(d);
  opt_d.step();
  blocks.emplace_back("d_update", update_table("D.", d, d_before, adam.lr));

  // ---- the G step ----
  opt_g.zero_grad();
  Tensor g_loss;
  std::vector<double> d_grad_norms;
  for (const Tensor& p : d.parameters()) d_grad_norms.push_back(l2_norm(p.grad()));
  {
    const FrozenParameters frozen_d(d);
    const Tensor g_logits = d.score(fake, {});
    g_loss = generator_loss(GanLoss::bce, g_logits);
    blocks.emplace_back("g_tape", tape_table(g_loss, names));
    blocks.emplace_back("losses", "| quantity | value |\n|---|---|\n| mean sigmoid(D(x)) | " + num(d_real) +
                                      " |\n| mean sigmoid(D(G(z))), before D's update | " + num(d_fake) +
                                      " |\n| D loss | " + num(d_loss.item()) +
                                      " |\n| mean sigmoid(D(G(z))), after D's update | " +
                                      num(summarize(sigmoid(g_logits.detach())).mean) + " |\n| G loss | " +
                                      num(g_loss.item()) + " |\n");
    g_loss.backward();
  }
  int d_changed = 0;
  for (size_t i = 0; i < d_grad_norms.size(); ++i) d_changed += l2_norm(d.parameters()[i].grad()) != d_grad_norms[i];
  blocks.emplace_back("g_grads", gradient_table("G.", g) + "\nD gradients changed by this backward: " +
                                     std::to_string(d_changed) + " of " + std::to_string(d_grad_norms.size()) + "\n");
  const auto g_before = snapshot(g);
  opt_g.step();
  blocks.emplace_back("g_update", update_table("G.", g, g_before, adam.lr));

  // ---- the same step by gan_train_step, from the same start ----
  Models twin = make_models(spec);
  Adam twin_g(twin.g->named_parameters(), adam), twin_d(twin.d->named_parameters(), adam);
  gan_train_step(*twin.g, *twin.d, twin_g, twin_d, GanLoss::bce, real, z, {});
  blocks.emplace_back("same_step",
                      "Largest difference from `gan_train_step`'s result, over every weight and "
                      "batch-norm statistic of G and D: " +
                          num(std::max(largest_difference(g, *twin.g), largest_difference(d, *twin.d))) + "\n");
  return blocks;
}

// ---- the doc's blocks ----

std::string begin_marker(const std::string& name) { return "<!-- trace:" + name + " -->\n"; }
std::string end_marker(const std::string& name) { return "<!-- /trace:" + name + " -->"; }

// Splits text into numbers and single other characters; numbers agree within 0.2% + 2e-4:
// the blocks print 4 significant digits or 4 decimals, and the last may flip when another
// build sums in another order.
bool same_text(const std::string& a, const std::string& b, std::string& where) {
  const char *pa = a.c_str(), *pb = b.c_str();
  while (*pa && *pb) {
    char *ea, *eb;
    const bool numeric = (std::isdigit(*pa) || *pa == '-') && (std::isdigit(*pb) || *pb == '-');
    const double va = numeric ? std::strtod(pa, &ea) : 0, vb = numeric ? std::strtod(pb, &eb) : 0;
    if (numeric && ea != pa && eb != pb) {
      if (std::fabs(va - vb) > 2e-3 * std::max(std::fabs(va), std::fabs(vb)) + 2e-4) {
        where = num(va) + " vs " + num(vb);
        return false;
      }
      pa = ea, pb = eb;
    } else if (*pa++ != *pb++) {
      where = std::string(std::string_view(pa - 1).substr(0, 40)) + " vs " +
              std::string(std::string_view(pb - 1).substr(0, 40));
      return false;
    }
  }
  if (*pa || *pb) where = "one text ends first";
  return !*pa && !*pb;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  CFGAN_CHECK(in, path, ": cannot read (", std::strerror(errno), ")");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int run(int argc, char** argv) {
  Flags flags(argc, argv, "trace_step", "one GAN training step taken apart, as Markdown blocks");
  const std::string check = flags.get("check", "", "a Markdown file whose trace blocks must match");
  const std::string write = flags.get("write", "", "a Markdown file whose trace blocks to replace");
  set_threads(static_cast<int>(flags.get_int("threads", 1, "CPU threads")));
  flags.finish();
  CFGAN_CHECK(check.empty() || write.empty(), "trace_step: give --check or --write, not both");
  const Blocks blocks = trace();
  if (check.empty() && write.empty()) {
    for (const auto& [name, text] : blocks)
      std::printf("%s%s%s\n\n", begin_marker(name).c_str(), text.c_str(), end_marker(name).c_str());
    return 0;
  }
  const std::string path = check.empty() ? write : check;
  std::string doc = read_file(path);
  for (const auto& [name, text] : blocks) {
    const size_t begin = doc.find(begin_marker(name));
    const size_t end = doc.find(end_marker(name));
    CFGAN_CHECK(begin != std::string::npos && end != std::string::npos && begin < end, path, " has no block ",
                begin_marker(name).substr(0, begin_marker(name).size() - 1), " ... ", end_marker(name));
    const size_t start = begin + begin_marker(name).size();
    std::string where;
    if (!check.empty() && !same_text(doc.substr(start, end - start), text, where)) {
      std::fprintf(stderr, "trace_step: %s, block %s differs from this build's step: %s (run trace_step --write %s)\n",
                   path.c_str(), name.c_str(), where.c_str(), path.c_str());
      return 1;
    }
    doc.replace(start, end - start, text);
  }
  if (!write.empty()) {
    write_text_file(path, doc);
    std::printf("trace_step: wrote %zu blocks into %s\n", blocks.size(), path.c_str());
  } else {
    std::printf("trace_step: %s agrees with this build's step (%zu blocks)\n", path.c_str(), blocks.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("trace_step", run, argc, argv); }

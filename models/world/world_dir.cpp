#include "models/world/world_dir.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/data/attributes.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/plot.h"
#include "engine/io/safetensors.h"
#include "engine/run/progress.h"
#include "models/world/render.h"

namespace fs = std::filesystem;

namespace cfgan {
namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text << "\n";
  CFGAN_CHECK(out, path, ": cannot write");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  CFGAN_CHECK(in, path, ": cannot open (is this a folder written by `causal_world generate`?)");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Image hwc_image(const uint8_t* chw, int64_t size) {
  Image img{size, size, 3, std::vector<uint8_t>(static_cast<size_t>(3 * size * size))};
  for (int64_t p = 0; p < size * size; ++p)
    for (int64_t c = 0; c < 3; ++c) img.pixels[p * 3 + c] = chw[c * size * size + p];
  return img;
}

// `count` images (3, S, S) in rows of `cols`, with a white 2-pixel gap, scaled by `zoom`.
void write_tiles(const std::string& path, const uint8_t* pixels, int64_t count, int64_t size, int64_t cols,
                 int64_t zoom) {
  const int64_t rows = (count + cols - 1) / cols, cell = size + 2;
  Image grid{cols * cell, rows * cell, 3,
             std::vector<uint8_t>(static_cast<size_t>(cols * cell * rows * cell * 3), 255)};
  for (int64_t i = 0; i < count; ++i) {
    const Image one = hwc_image(pixels + i * 3 * size * size, size);
    const int64_t x0 = (i % cols) * cell + 1, y0 = (i / cols) * cell + 1;
    for (int64_t y = 0; y < size; ++y)
      std::copy_n(one.pixels.begin() + y * size * 3, size * 3, grid.pixels.begin() + ((y0 + y) * grid.width + x0) * 3);
  }
  write_png(path, resize_image(grid, grid.width * zoom, grid.height * zoom));
}

}  // namespace

std::string world_file_name(int64_t index, int64_t count) {
  const std::string number = std::to_string(index + 1);
  const size_t width = std::max<size_t>(6, std::to_string(count).size());
  return std::string(width - std::min(width, number.size()), '0') + number + ".png";
}

void write_world(const std::string& dir, const WorldSpec& spec, const WorldUnits& units, const LabelRule& label,
                 nlohmann::json about, const Intervention& intervention, Effect effect) {
  const int64_t n = units.count, k_count = spec.num_attributes(), size = spec.image_size;
  const int64_t image = 3 * size * size, plane = size * size;
  std::error_code ec;
  fs::create_directories(dir, ec);
  CFGAN_CHECK(!ec, dir, ": cannot create the output folder (", ec.message(), ")");
  for (bool positive : {false, true}) fs::create_directories(fs::path(dir) / label.class_name(positive), ec);
  CFGAN_CHECK(!ec, dir, ": cannot create the class folders (", ec.message(), ")");

  AttributeTable table;
  table.names = spec.names();
  table.files.resize(static_cast<size_t>(n));
  table.values.resize(static_cast<size_t>(n * k_count));
  ByteTensor masks{Shape{n, kWorldFactors, size, size},
                   std::vector<uint8_t>(static_cast<size_t>(n * kWorldFactors * plane))};
  std::vector<uint8_t> preview(static_cast<size_t>(std::min<int64_t>(n, 64) * image));

  Progress progress("causal_world: rendering", n);
  const int64_t chunk = 1024;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    std::string error;  // an exception may not leave an OpenMP region: the first one is rethrown after it
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = begin; i < end; ++i) {
      try {
        int8_t* a = table.values.data() + i * k_count;
        solve_attributes(spec, units.row(i), intervention, effect, a);
        std::vector<uint8_t> pixels(static_cast<size_t>(image));
        render_world_image(size, spec.pixel_noise, look_of(spec, a), units.row(i) + k_count, pixels.data(),
                           masks.data.data() + i * kWorldFactors * plane);
        table.files[i] = world_file_name(i, n);
        write_png((fs::path(dir) / label.class_name(label(a)) / table.files[i]).string(),
                  hwc_image(pixels.data(), size));
        if (i < 64) std::copy(pixels.begin(), pixels.end(), preview.begin() + i * image);
      } catch (const std::exception& e) {
#pragma omp critical
        if (error.empty()) error = e.what();
      }
    }
    if (!error.empty()) fail(error);
    progress.update(end, "");
  }
  progress.finish(n, "");

  write_attribute_file((fs::path(dir) / "list_attr.txt").string(), table);
  nlohmann::json columns = exogenous_columns(spec);
  save_safetensors((fs::path(dir) / "exogenous.safetensors").string(),
                   {{"U", Tensor::from_host(Shape{n, units.width}, units.u)}},
                   {{"columns", columns.dump()}, {"spec", spec.to_json()}});
  nlohmann::json painted = nlohmann::json::object();
  for (const std::string& name : spec.names()) painted[name] = kWorldFactorNames[factor_painted_by(name)];
  save_safetensors((fs::path(dir) / "masks.safetensors").string(), {},
                   {{"factors", nlohmann::json(kWorldFactorNames).dump()}, {"attribute_factors", painted.dump()}},
                   {{"masks", std::move(masks)}});
  write_text((fs::path(dir) / "scm.json").string(), spec.to_json());
  about["label"] = label.text();
  about["count"] = n;
  about["image_size"] = size;
  if (!intervention.empty()) {
    nlohmann::json done = nlohmann::json::object();
    for (int64_t k = 0; k < k_count; ++k)
      if (intervention[k] != 0) done[spec.attributes[k].name] = intervention[k];
    about["intervention"] = done;
    about["effect"] = effect == Effect::total ? "total" : "direct";
  }
  write_text((fs::path(dir) / "world.json").string(), about.dump(2));
  write_tiles((fs::path(dir) / "preview.png").string(), preview.data(), std::min<int64_t>(n, 64), size, 8, 2);
  std::vector<std::pair<int, int>> edges;
  for (int64_t k = 0; k < k_count; ++k)
    for (int p : spec.attributes[k].parents) edges.emplace_back(p, static_cast<int>(k));
  write_graph_png((fs::path(dir) / "graph.png").string(), spec.names(), edges, "causal graph (scm.json)");
}

void write_counterfactual_pairs(const std::string& path, const WorldSpec& spec, const WorldUnits& units,
                                const Intervention& intervention, Effect effect, int64_t count) {
  const int64_t n = std::min(count, units.count), size = spec.image_size, image = 3 * size * size;
  std::vector<uint8_t> pixels(static_cast<size_t>(2 * n * image));
  std::vector<int8_t> attributes(static_cast<size_t>(n * spec.num_attributes()));
  render_units(spec, units, 0, n, nullptr, effect, pixels.data(), attributes.data());
  render_units(
      spec, units, 0, n, [&](int64_t) { return intervention; }, effect, pixels.data() + n * image, attributes.data());
  write_tiles(path, pixels.data(), 2 * n, size, n, 3);
}

WorldFolder read_world(const std::string& dir) {
  WorldFolder w;
  w.dir = dir;
  const std::string about_path = (fs::path(dir) / "world.json").string();
  try {
    w.about = nlohmann::json::parse(read_text(about_path));
  } catch (const nlohmann::json::exception& e) {
    fail(about_path, ": not valid JSON (", e.what(), ")");
  }
  CFGAN_CHECK(w.about.is_object() && w.about.contains("label") && w.about["label"].is_string(), about_path,
              ": expected an object with a \"label\"");
  w.label = w.about["label"].get<std::string>();
  w.spec = WorldSpec::read((fs::path(dir) / "scm.json").string());
  const std::string u_path = (fs::path(dir) / "exogenous.safetensors").string();
  const SafetensorsFile file = load_safetensors(u_path);
  const auto it = file.tensors.find("U");
  CFGAN_CHECK(it != file.tensors.end(), u_path, ": no tensor 'U'");
  const Tensor& u = it->second;
  const int64_t width = w.spec.num_attributes() + kWorldNuisance;
  CFGAN_CHECK(u.ndim() == 2 && u.dim(1) == width, u_path, ": 'U' has shape ", u.shape().str(), ", expected (N, ", width,
              ") for the ", w.spec.num_attributes(), " attributes of scm.json");
  w.units.count = u.dim(0);
  w.units.width = width;
  w.units.u = u.to_host();
  return w;
}

}  // namespace cfgan

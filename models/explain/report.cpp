#include "models/explain/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/bitmap_font.h"
#include "engine/io/image.h"
#include "engine/io/plot.h"
#include "engine/ops.h"
#include "models/explain/maps.h"

namespace cfgan {

namespace {

namespace fs = std::filesystem;

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string number(double v, int decimals = 3) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Each pixel repeated `scale` times in both directions: small images stay sharp.
Image upscale(const Image& image, int64_t scale) {
  Image out{image.width * scale, image.height * scale, image.channels, {}};
  out.pixels.resize(static_cast<size_t>(out.width * out.height * out.channels));
  for (int64_t y = 0; y < out.height; ++y) {
    for (int64_t x = 0; x < out.width; ++x) {
      for (int64_t c = 0; c < out.channels; ++c) {
        out.pixels[(y * out.width + x) * out.channels + c] =
            image.pixels[((y / scale) * image.width + x / scale) * image.channels + c];
      }
    }
  }
  return out;
}

class Pictures {
 public:
  Pictures(std::string dir, int64_t scale) : dir_(std::move(dir)), scale_(scale) {
    fs::create_directories(dir_ + "/img");
  }
  // Writes img/<name>.png and returns its path relative to the report folder.
  std::string image(const std::string& name, const Tensor& nchw) {
    return write(name, upscale(image_from_tensor(reshape(nchw, {nchw.dim(1), nchw.dim(2), nchw.dim(3)})), scale_));
  }
  std::string strip(const std::string& name, const Tensor& nchw) {
    return write(name, upscale(image_grid(nchw, nchw.dim(0), 1), std::max<int64_t>(1, scale_ / 2)));
  }
  std::string heat(const std::string& name, const std::vector<float>& magnitude, int64_t height, int64_t width) {
    return write(name, heat_image(magnitude.data(), height, width, scale_));
  }
  std::string mask(const std::string& name, const std::vector<uint8_t>& mask, int64_t height, int64_t width) {
    Image m{width, height, 1, {}};
    for (uint8_t v : mask) m.pixels.push_back(v ? 255 : 0);
    return write(name, upscale(m, scale_));
  }
  std::string plot(const std::string& name, const std::vector<Series>& series, const PlotOptions& options) {
    write_plot_png(dir_ + "/img/" + name + ".png", series, options);
    return "img/" + name + ".png";
  }

 private:
  std::string write(const std::string& name, const Image& image) {
    write_png(dir_ + "/img/" + name + ".png", image);
    last_ = image;
    return "img/" + name + ".png";
  }

 public:
  const Image& last() const { return last_; }  // the picture written last

 private:
  Image last_;
  std::string dir_;
  int64_t scale_;
};

// A picture with its caption under it, for the at-a-glance PNG.
struct Captioned {
  Image image;
  std::string caption;
};

// Rows of captioned pictures on white, each row left to right, `pad` pixels apart: one page at
// a glance. Captions use the built-in font and are cut to their picture's width.
Image montage(const std::vector<std::vector<Captioned>>& rows, int64_t pad = 6) {
  const int64_t caption_height = glyph_height + 4;
  int64_t width = 0, height = pad;
  for (const auto& row : rows) {
    int64_t w = pad, h = 0;
    for (const Captioned& c : row) w += c.image.width + pad, h = std::max(h, c.image.height);
    width = std::max(width, w), height += h + caption_height + pad;
  }
  Image out{width, height, 3, std::vector<uint8_t>(static_cast<size_t>(width * height * 3), 255)};
  int64_t y = pad;
  for (const auto& row : rows) {
    int64_t x = pad, h = 0;
    for (const Captioned& c : row) {
      const Image& im = c.image;
      for (int64_t r = 0; r < im.height; ++r) {
        for (int64_t col = 0; col < im.width; ++col) {
          for (int64_t k = 0; k < 3; ++k) {
            out.pixels[((y + r) * width + x + col) * 3 + k] =
                im.pixels[(r * im.width + col) * im.channels + (im.channels == 3 ? k : 0)];
          }
        }
      }
      const size_t fits = static_cast<size_t>(std::max<int64_t>(0, (im.width + 1) / glyph_advance));
      const std::string text = c.caption.substr(0, fits);
      for (size_t i = 0; i < text.size(); ++i) {
        for (int gy = 0; gy < glyph_height; ++gy) {
          for (int gx = 0; gx < glyph_width; ++gx) {
            if (!glyph_pixel(text[i], gx, gy)) continue;
            uint8_t* px = out.pixels.data() + ((y + im.height + 2 + gy) * width + x + i * glyph_advance + gx) * 3;
            px[0] = px[1] = px[2] = 0;
          }
        }
      }
      x += im.width + pad, h = std::max(h, im.height);
    }
    y += h + caption_height + pad;
  }
  return out;
}

std::string figure(const std::string& src, const std::string& caption) {
  return "<figure><img src=\"" + src + "\"><figcaption>" + caption + "</figcaption></figure>\n";
}

const char* kStyle =
    "<style>body{font-family:sans-serif;margin:1.5em;color:#222}figure{display:inline-block;margin:4px;"
    "text-align:center;vertical-align:top}figcaption{font-size:12px}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#f2f2f2}"
    "img{image-rendering:pixelated}.valid{color:#080}.invalid{color:#b00}</style>\n";

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  CFGAN_CHECK(out.good(), path, ": cannot write the report page");
}

std::string scores_table(const ExplainScores& scores) {
  std::ostringstream h;
  h << "<table><tr><th>way</th><th>pairs</th><th>validity</th><th>pairs with a valid one</th><th>L1 to original</th>"
       "<th>L1 to reconstruction</th><th>feature distance</th><th>FD</th><th>flips</th><th>flip at</th></tr>\n";
  for (const WayScores& w : scores.ways) {
    h << "<tr><td>" << escape(w.way) << "</td><td>" << w.searched << "</td><td>" << number(w.validity) << "</td><td>"
      << number(w.found_valid) << "</td><td>" << number(w.l1_original) << "</td><td>" << number(w.l1_reconstruction)
      << "</td><td>" << number(w.feature_distance) << "</td><td>" << number(w.fd, 2) << "</td><td>" << w.flipped
      << "</td><td>" << number(w.flip_fraction, 2) << "</td></tr>\n";
  }
  h << "</table><p>Reconstructions: mean squared error " << number(scores.mean_reconstruction_error, 4) << ", FD "
    << number(scores.fd_reconstructions, 2) << ".</p>\n";
  return h.str();
}

std::string code_flips_table(const CodeFlips* flips) {
  if (!flips) return "";
  std::ostringstream h;
  h << "<p>CDVAE-GAN code flips: the share of these mistakes that flipping one attribute's code undoes</p>"
       "<table><tr>";
  for (const std::string& a : flips->attributes) h << "<th>" << escape(a) << "</th>";
  h << "</tr><tr>";
  for (double f : flips->fixes) h << "<td>" << number(f) << "</td>";
  h << "</tr></table>\n";
  return h.str();
}

}  // namespace

std::string write_explain_report(const std::string& dir, const ReportInput& input) {
  CFGAN_CHECK(input.causes.empty() || input.causes.size() == input.images.size(), "report: ", input.causes.size(),
              " causes for ", input.images.size(), " images");
  Pictures pictures(dir, input.scale);
  auto class_name = [&](int64_t k) {
    return escape(k >= 0 && k < static_cast<int64_t>(input.class_names.size()) ? input.class_names[k]
                                                                               : std::to_string(k));
  };
  NoGrad no_grad;
  std::ostringstream index;
  index << "<!doctype html><html><head><meta charset=\"utf-8\"><title>" << escape(input.title) << "</title>" << kStyle
        << "</head><body><h1>" << escape(input.title) << "</h1>\n"
        << scores_table(input.scores) << code_flips_table(input.code_flips)
        << "<table><tr><th>image</th><th>true</th><th>predicted</th><th>confidence</th><th>original</th>"
           "<th>reconstruction</th><th>counterfactuals</th></tr>\n";
  for (size_t k = 0; k < input.images.size(); ++k) {
    const ExplainedImage& e = input.images[k];
    const int64_t height = e.original.dim(2), width = e.original.dim(3);
    const std::string id = std::to_string(k);
    const std::string page_name = "image_" + id + ".html";
    std::ostringstream page;
    page << "<!doctype html><html><head><meta charset=\"utf-8\"><title>image " << e.index << "</title>" << kStyle
         << "</head><body><p><a href=\"index.html\">index</a></p><h1>Image " << e.index << ": " << class_name(e.label)
         << " classified as " << class_name(e.predicted) << " (" << number(e.probabilities[e.predicted]) << ")</h1>\n";
    // The page's main pictures in one PNG as well (img/<k>_glance.png), for a look without a browser.
    std::vector<std::vector<Captioned>> glance(1);
    const std::string original = pictures.image(id + "_original", e.original);
    glance[0].push_back({pictures.last(), "original"});
    const std::string reconstruction = pictures.image(id + "_reconstruction", e.reconstruction);
    glance[0].push_back({pictures.last(), "reconstruction"});
    page << figure(original, "original")
         << figure(reconstruction, "reconstruction, MSE " + number(e.reconstruction_error, 4));
    const ImageCause* cause = input.causes.empty() ? nullptr : &input.causes[k];
    if (cause && !cause->mask.empty()) {
      page << figure(pictures.mask(id + "_cause", cause->mask, height, width), "true cause (mask)");
      glance[0].push_back({pictures.last(), "true cause"});
    }
    auto pointing_of = [&](const std::string& name) -> std::string {
      if (!cause) return "";
      for (const auto& [n, v] : cause->pointing) {
        if (n == name) return ", pointing " + number(v, 2);
      }
      return "";
    };
    page << "<h2>Attribution maps for " << class_name(e.predicted) << "</h2>\n";
    for (size_t m = 0; m < input.methods.size(); ++m) {
      page << figure(pictures.heat(id + "_map_" + input.methods[m], e.maps[m], height, width),
                     escape(input.methods[m]) + pointing_of(input.methods[m]));
      glance[0].push_back({pictures.last(), input.methods[m]});
    }
    index << "<tr><td><a href=\"" << page_name << "\">" << e.index << "</a></td><td>" << class_name(e.label)
          << "</td><td>" << class_name(e.predicted) << "</td><td>" << number(e.probabilities[e.predicted])
          << "</td><td><img src=\"" << original << "\"></td><td><img src=\"" << reconstruction << "\"></td><td>";
    for (size_t s = 0; s < e.counterfactuals.size(); ++s) {
      const CounterfactualSet& set = e.counterfactuals[s];
      const std::string sid = id + "_" + set.way + "_" + std::to_string(set.target);
      page << "<h2>" << escape(set.way) << ": counterfactuals for " << class_name(set.target) << "</h2>\n";
      for (size_t r = 0; r < set.found.size(); ++r) {
        const Counterfactual& c = set.found[r];
        const std::string src = pictures.image(sid + "_" + std::to_string(r), c.picture);
        page << figure(src, std::string("<span class=\"") + (c.valid ? "valid" : "invalid") + "\">p(" +
                                class_name(set.target) + ") " + number(c.probabilities[set.target]) + "</span>, L1 " +
                                number(c.l1) + (static_cast<int64_t>(r) == set.best ? " (best)" : ""));
        if (static_cast<int64_t>(r) != set.best) continue;
        index << "<img src=\"" << src << "\" title=\"" << escape(set.way) << " " << class_name(set.target) << "\">";
        glance.push_back({{pictures.last(), set.way + ": " + input.class_names.at(set.target)}});
      }
      page << figure(pictures.heat(sid + "_difference", set.difference, height, width),
                     "|best - reconstruction|" + (set.target == e.label ? pointing_of(set.way) : ""));
      glance.back().push_back({pictures.last(), "difference"});
      const Transition& t = set.transition;
      const int64_t steps = t.pictures.dim(0);
      std::vector<double> p_target, p_predicted;
      for (const auto& p : t.probabilities) p_target.push_back(p[set.target]), p_predicted.push_back(p[e.predicted]);
      page << "<h3>Transition from the reconstruction</h3>\n"
           << figure(pictures.strip(sid + "_transition", t.pictures), std::to_string(steps) + " steps") << "<br>\n";
      glance.back().push_back({pictures.last(), t.flip_step >= 0
                                                    ? "transition: flips at step " + std::to_string(t.flip_step)
                                                    : "transition: no flip"});
      page << figure(pictures.plot(sid + "_probabilities",
                                   {{.label = "p(" + input.class_names.at(set.target) + ")", .y = p_target},
                                    {.label = "p(" + input.class_names.at(e.predicted) + ")", .y = p_predicted}},
                                   {.title = "classifier along the transition",
                                    .x_label = "step",
                                    .y_label = "probability",
                                    .width = 520,
                                    .height = 220}),
                     t.flip_step >= 0 ? "decision flips at step " + std::to_string(t.flip_step) : "no flip");
      if (!set.flip_difference.empty()) {
        page << figure(
            pictures.heat(sid + "_flip", set.flip_difference, height, width),
            "what the flipping step changes" + (set.target == e.label ? pointing_of(set.way + " (flip step)") : ""));
      }
    }
    if (input.code_flips) {
      const CodeFlips& f = *input.code_flips;
      page << "<h2>CDVAE-GAN: one attribute code flipped</h2>\n"
           << figure(pictures.image(id + "_cdvae_reconstruction", narrow(f.reconstructions, 0, k, 1)),
                     "CDVAE-GAN reconstruction");
      for (size_t a = 0; a < f.attributes.size(); ++a) {
        const bool fixes = f.fixed[a][k] != 0;
        page << figure(pictures.image(id + "_cdvae_" + f.attributes[a], narrow(f.flipped[a], 0, k, 1)),
                       std::string("<span class=\"") + (fixes ? "valid" : "invalid") + "\">flip " +
                           escape(f.attributes[a]) + ": p(" + class_name(e.label) + ") " + number(f.p_true[a][k]) +
                           "</span>");
        if (f.best[k] == static_cast<int>(a)) glance.push_back({{pictures.last(), "cdvae: flip " + f.attributes[a]}});
      }
      if (f.best[k] >= 0) {
        page << figure(pictures.heat(id + "_cdvae_difference", f.difference[k], height, width),
                       "|closest fixing flip - reconstruction|" + pointing_of("cdvae"));
        glance.back().push_back({pictures.last(), "difference"});
      }
    }
    index << "</td></tr>\n";
    write_png(dir + "/img/" + id + "_glance.png", montage(glance));
    page << "</body></html>\n";
    write_text(dir + "/" + page_name, page.str());
  }
  index << "</table></body></html>\n";
  write_text(dir + "/index.html", index.str());
  return dir + "/index.html";
}

}  // namespace cfgan

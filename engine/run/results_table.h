// Results of many runs (a sweep, a study) as rows of named columns: appended to a CSV file
// as each run ends (so an interrupted sweep can be read back and resumed), then grouped and
// summarised as a markdown table of mean ± std over seeds. Programs name their columns
// once and never count positions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cfgan {

class ResultsTable {
 public:
  using Row = std::map<std::string, std::string>;

  explicit ResultsTable(std::vector<std::string> columns);

  // Appends every later add() to `path`. `resume`: first read the rows already there (the
  // header must be these columns; a missing file is created); else start the file afresh.
  void attach_csv(const std::string& path, bool resume);
  // Every column must be given; the row is flushed to the CSV at once.
  void add(const Row& row);

  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Row>& rows() const { return rows_; }
  static double number(const Row& row, const std::string& column);  // errors name the column

  // Rows grouped by equal values of `keys`, groups in the order their first row came.
  using Group = std::vector<const Row*>;
  std::vector<Group> group_by(const std::vector<std::string>& keys,
                              const std::function<bool(const Row&)>& keep = {}) const;

 private:
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
  std::string csv_path_;
};

// One markdown table: a line per group of equal `keys`, the keys' values first, then for each
// summary column a statistic of `value` over the group's kept rows ("–" when none is kept).
struct SummaryColumn {
  enum class Stat { mean_std, sum, count };
  std::string header;
  std::function<double(const ResultsTable::Row&)> value{};
  int decimals = 2;
  Stat stat = Stat::mean_std;
};
// `column`'s number times `scale`: the usual SummaryColumn::value.
std::function<double(const ResultsTable::Row&)> column_value(const std::string& column, double scale = 1);
struct KeyColumn {
  std::string header, column;
};
std::string markdown_summary(const ResultsTable& table, const std::vector<KeyColumn>& keys,
                             const std::vector<SummaryColumn>& summaries,
                             const std::function<bool(const ResultsTable::Row&)>& keep = {});

// The mean of `column` over a group's rows.
double group_mean(const ResultsTable::Group& group, const std::string& column);

}  // namespace cfgan

// ResultsTable: rows by column name, the CSV a sweep resumes from, and the markdown summaries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/run/results_table.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::error_of;
using ::testing::HasSubstr;

namespace {

class Results : public cfgan_test::TempDirTest {};

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_F(Results, RowsGoToTheCsvAndAResumedTableReadsThemBack) {
  {
    ResultsTable t({"setting", "seed", "score"});
    t.attach_csv(path("r.csv"), false);
    t.add({{"setting", "UR"}, {"seed", "1"}, {"score", "0.5"}});
    t.add({{"setting", "UR"}, {"seed", "2"}, {"score", "1.5"}});
  }
  EXPECT_EQ(read_all(path("r.csv")), "setting,seed,score\nUR,1,0.5\nUR,2,1.5\n");
  ResultsTable again({"setting", "seed", "score"});
  again.attach_csv(path("r.csv"), true);
  ASSERT_EQ(again.rows().size(), 2u);
  EXPECT_EQ(again.rows()[1].at("score"), "1.5");
  again.add({{"setting", "ER"}, {"seed", "1"}, {"score", "2"}});
  EXPECT_EQ(read_all(path("r.csv")), "setting,seed,score\nUR,1,0.5\nUR,2,1.5\nER,1,2\n");
  ResultsTable fresh({"setting", "seed", "score"});
  fresh.attach_csv(path("r.csv"), false);  // not resuming: starts the file again
  EXPECT_EQ(read_all(path("r.csv")), "setting,seed,score\n");
}

TEST_F(Results, BadRowsAndFilesAreNamed) {
  ResultsTable t({"a", "b"});
  EXPECT_THAT(error_of([&] { t.add({{"a", "1"}}); }), HasSubstr("the row lacks column 'b'"));
  EXPECT_THAT(error_of([&] { t.add({{"a", "1"}, {"b", "2"}, {"c", "3"}}); }), HasSubstr("columns the table does not"));
  EXPECT_THAT(error_of([&] { t.add({{"a", "1,2"}, {"b", "2"}}); }), HasSubstr("holds a comma"));
  std::ofstream(path("other.csv")) << "x,y\n1,2\n";
  EXPECT_THAT(error_of([&] { t.attach_csv(path("other.csv"), true); }), HasSubstr("its header 'x,y' is not"));
  std::ofstream(path("short.csv")) << "a,b\n1\n";
  ResultsTable u({"a", "b"});
  EXPECT_THAT(error_of([&] { u.attach_csv(path("short.csv"), true); }), HasSubstr("short.csv:2: 1 fields, expected 2"));
  EXPECT_THAT(error_of([] { ResultsTable::number({{"a", "x1"}}, "a"); }), HasSubstr("'a' holds 'x1', not a number"));
}

TEST_F(Results, MarkdownSummarisesGroupsInTheOrderTheyCame) {
  ResultsTable t({"setting", "seed", "score", "failed"});
  t.add({{"setting", "UR"}, {"seed", "1"}, {"score", "1"}, {"failed", "0"}});
  t.add({{"setting", "base"}, {"seed", "1"}, {"score", "4"}, {"failed", "1"}});
  t.add({{"setting", "UR"}, {"seed", "2"}, {"score", "3"}, {"failed", "0"}});
  using Stat = SummaryColumn::Stat;
  EXPECT_EQ(markdown_summary(t, {{"setting", "setting"}},
                             {{"runs", {}, 0, Stat::count},
                              {"score", column_value("score", 10), 1},
                              {"failed", column_value("failed"), 0, Stat::sum}}),
            "| setting | runs | score | failed |\n|---|---|---|---|\n"
            "| UR | 2 | 20.0 ± 14.1 | 0 |\n| base | 1 | 40.0 | 1 |\n");
  // Rows a filter leaves out do not count; a group left empty shows a dash.
  EXPECT_EQ(markdown_summary(t, {{"setting", "setting"}}, {{"score", column_value("score"), 1}},
                             [](const ResultsTable::Row& r) { return r.at("failed") == "0"; }),
            "| setting | score |\n|---|---|\n| UR | 2.0 ± 1.4 |\n| base | – |\n");
}

#include "report/eval_report.h"

#include <algorithm>

#include "models/metrics.h"
#include "report/charts.h"
#include "report/html.h"
#include "report/markup.h"

namespace mn::report {

std::vector<int64_t> confident_mistakes(const EvalResult& r, const IdxLabels& labels, size_t k) {
    std::vector<int64_t> wrong;
    for (int64_t i = 0; i < r.count; ++i)
        if (r.predictions[size_t(i)] != labels.labels[size_t(i)]) wrong.push_back(i);
    const size_t n = std::min(k, wrong.size());
    std::partial_sort(wrong.begin(), wrong.begin() + std::ptrdiff_t(n), wrong.end(), [&](int64_t a, int64_t b) {
        return r.confidences[size_t(a)] != r.confidences[size_t(b)] ? r.confidences[size_t(a)] > r.confidences[size_t(b)] : a < b;
    });
    wrong.resize(n);
    return wrong;
}

namespace {

std::string class_table(const std::vector<ClassScores>& scores) {
    std::string out = "<table id=\"classes\">\n<tr><th>class</th><th>images</th><th>precision</th><th>recall</th><th>F1</th></tr>\n";
    double p = 0, r = 0, f = 0;
    int64_t support = 0;
    for (size_t c = 0; c < scores.size(); ++c) {
        const ClassScores& s = scores[c];
        out += strf("<tr class=\"class\" data-class=\"%zu\"><td>%zu</td><td>%lld</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>\n", c,
                    c, static_cast<long long>(s.support), s.precision, s.recall, s.f1);
        p += s.precision;
        r += s.recall;
        f += s.f1;
        support += s.support;
    }
    const double n = double(scores.size());
    out += strf("<tr class=\"macro\"><th>mean</th><th>%lld</th><th>%.4f</th><th>%.4f</th><th>%.4f</th></tr>\n",
                static_cast<long long>(support), p / n, r / n, f / n);
    return out + "</table>\n";
}

}  // namespace

std::string eval_report_html(const EvalRun& run) {
    const EvalResult& r = run.result;
    const uint8_t* labels = run.labels.labels.data();
    const ConfusionMatrix m = confusion_matrix(labels, r.predictions.data(), r.count, run.n_classes);
    const Calibration cal = calibration(labels, r.predictions.data(), r.confidences.data(), r.count, kCalibrationBins);

    std::string body = strf("<p id=\"summary\">accuracy <b>%.2f%%</b> (%lld of %lld), mean cross-entropy loss %.4f</p>\n",
                            100.0 * r.accuracy(), static_cast<long long>(r.correct), static_cast<long long>(r.count), r.loss);
    body += "<h2>Settings and timings</h2>\n" + key_value_table(run.settings, "settings");
    body += "<h2>Confusion matrix</h2>\n<p class=\"note\">Rows: the true digit; columns: the prediction. The diagonal is "
            "shaded by the class's recall, mistakes by their count.</p>\n" + confusion_svg(m);
    body += "<h2>Per class</h2>\n" + class_table(class_scores(m));
    body += "<h2>Calibration</h2>\n<p class=\"note\">Predictions grouped by their probability: each bar is the share of "
            "its group that was right (the number above it: how many), the dashed line what a calibrated model would score.</p>\n" +
            strf("<p id=\"ece\">expected calibration error (ECE, %d bins): <span class=\"value\">%.4f</span></p>\n",
                 kCalibrationBins, cal.ece) +
            reliability_svg(cal);
    const std::vector<int64_t> mistakes = confident_mistakes(r, run.labels, kShownMistakes);
    body += strf("<h2>The %zu most confident mistakes</h2>\n<div class=\"gallery\" id=\"mistakes\">\n", mistakes.size());
    for (int64_t i : mistakes) {
        const int label = labels[i], pred = r.predictions[size_t(i)];
        const double prob = r.confidences[size_t(i)];
        body += digit_figure(run.images.image(i), run.images.rows, run.images.cols,
                             strf("class=\"mistake\" data-index=\"%lld\" data-label=\"%d\" data-predicted=\"%d\" data-probability=\"%.6f\"",
                                  static_cast<long long>(i), label, pred, prob),
                             strf("#%lld: true %d, predicted <b>%d</b> (p = %.3f)", static_cast<long long>(i), label, pred, prob));
    }
    body += "</div>\n";
    return html_page("mnist eval report", body);
}

}  // namespace mn::report

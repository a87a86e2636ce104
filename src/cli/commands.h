#pragma once
// Each subcommand: argv holds the arguments after the subcommand name. Returns the exit code;
// throws UsageError (exit 2) or FileError / Error (exit 1).

namespace mn::cli {

int cmd_eval(int argc, char** argv, bool seed_call);
int cmd_compare(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_graph(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_predict(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_train(int argc, char** argv);

}  // namespace mn::cli

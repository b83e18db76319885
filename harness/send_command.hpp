#pragma once
// `smtpsim send`: the built-in reference SMTP client (simulator/reference/client_session.hpp),
// run as an external process exactly like a real client (swaks, msmtp) against a server on
// loopback. Exit status: 0 message accepted (a 2xx after DATA), 1 not delivered (refused by
// policy, deferred, server error, network failure), 2 bad usage. One line on stderr says why it
// ended.

namespace CLI {
class App;
}  // namespace CLI

namespace smtpsim::harness {

// add_send_command registers the `send` subcommand and its options on `app`. The command runs in
// the subcommand's CLI11 callback, i.e. during app.parse(), and stores its exit status in
// `exit_code` (which must outlive the parse); it never throws. Returns the subcommand, so that
// main can test `if (*send) return exit_code;` after parsing.
CLI::App* add_send_command(CLI::App& app, int& exit_code);

}  // namespace smtpsim::harness

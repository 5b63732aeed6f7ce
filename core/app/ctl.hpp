// p2pnode ctl: runs one console command on a running node through its
// control socket, prints the output and exits with the command's status.
#pragma once

int run_ctl(int argc, char** argv);

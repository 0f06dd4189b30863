#include "cmd.h"

int cmd_age(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_errorf("age: not built yet");
	return EXIT_GENERIC;
}

int cmd_keygen(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_errorf("keygen: not built yet");
	return EXIT_GENERIC;
}

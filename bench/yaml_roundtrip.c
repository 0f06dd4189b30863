/* Baseline for the sops benchmark: parse a YAML file with libyaml and emit
 * it again (event by event), the least any YAML tool must do. */
#include <stdio.h>
#include <yaml.h>

int main(int argc, char **argv)
{
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_event_t event;
	FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
	int done = 0, ok = 1;

	if (!in)
		return 1;
	yaml_parser_initialize(&parser);
	yaml_emitter_initialize(&emitter);
	yaml_parser_set_input_file(&parser, in);
	yaml_emitter_set_output_file(&emitter, stdout);
	yaml_emitter_set_unicode(&emitter, 1);
	while (!done && ok) {
		if (!yaml_parser_parse(&parser, &event)) {
			ok = 0;
			break;
		}
		done = event.type == YAML_STREAM_END_EVENT;
		ok = yaml_emitter_emit(&emitter, &event);
	}
	yaml_parser_delete(&parser);
	yaml_emitter_delete(&emitter);
	if (in != stdin)
		fclose(in);
	return ok ? 0 : 1;
}

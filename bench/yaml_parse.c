/* libyaml's events for a file, read from memory and dropped: what the proof
 * of an encrypt would cost if libyaml read every byte of the output (it
 * leaves out the base64 of each ENC value: src/store/yaml_elide.c). */
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

int main(int argc, char **argv)
{
	yaml_parser_t parser;
	yaml_event_t event;
	FILE *in = argc > 1 ? fopen(argv[1], "rb") : NULL;
	unsigned char *text;
	long len;
	int done = 0;

	if (!in || fseek(in, 0, SEEK_END) || (len = ftell(in)) < 0 || fseek(in, 0, SEEK_SET) ||
	    !(text = malloc((size_t)len + 1)) || fread(text, 1, (size_t)len, in) != (size_t)len)
		return 1;
	fclose(in);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, text, (size_t)len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&parser, &event))
			return 1;
		done = event.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	free(text);
	return 0;
}

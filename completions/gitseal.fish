# fish completion for gitseal(1). Installed as
# share/fish/vendor_completions.d/gitseal.fish.

# True when the command line's command (and subcommand) are the arguments.
function __gitseal_is
    set -l tokens (commandline -opc)
    test (count $tokens) -ge 2; or return 1
    test "$tokens[2]" = $argv[1]; or return 1
    if set -q argv[2]
        test (count $tokens) -ge 3; and test "$tokens[3]" = $argv[2]
    end
end

# True when the command line holds the command only (its subcommand comes next).
function __gitseal_needs_sub
    set -l tokens (commandline -opc)
    test (count $tokens) -eq 2; and test "$tokens[2]" = $argv[1]
end

set -l __gitseal_types 'yaml json dotenv ini binary'
set -l __gitseal_sops encrypt decrypt edit set unset rotate updatekeys filestatus exec-env exec-file

complete -c gitseal -f

# Commands
complete -c gitseal -n __fish_use_subcommand -a encrypt -d 'Encrypt the values of a file (sops format)'
complete -c gitseal -n __fish_use_subcommand -a decrypt -d 'Decrypt a sops file'
complete -c gitseal -n __fish_use_subcommand -a edit -d 'Edit a sops file in an editor'
complete -c gitseal -n __fish_use_subcommand -a set -d 'Set one value of a sops file'
complete -c gitseal -n __fish_use_subcommand -a unset -d 'Remove one value of a sops file'
complete -c gitseal -n __fish_use_subcommand -a rotate -d 'New data key, every value encrypted again'
complete -c gitseal -n __fish_use_subcommand -a updatekeys -d 'Wrap the data key for the creation rule'
complete -c gitseal -n __fish_use_subcommand -a groups -d 'Add or delete a key group'
complete -c gitseal -n __fish_use_subcommand -a filestatus -d 'Tell whether a file is encrypted'
complete -c gitseal -n __fish_use_subcommand -a exec-env -d 'Run a command with the values in its environment'
complete -c gitseal -n __fish_use_subcommand -a exec-file -d 'Run a command with the plaintext in a FIFO'
complete -c gitseal -n __fish_use_subcommand -a age -d 'age v1 encryption and decryption'
complete -c gitseal -n __fish_use_subcommand -a git -d 'The git filter, diff and merge drivers'
complete -c gitseal -n __fish_use_subcommand -a render -d 'Decrypt manifests for Argo CD'
complete -c gitseal -n __fish_use_subcommand -a krm -d 'KRM function and KSOPS generator'
complete -c gitseal -n __fish_use_subcommand -a keygen -d 'Generate an age identity'
complete -c gitseal -n __fish_use_subcommand -a help -d 'List the commands'
complete -c gitseal -n __fish_use_subcommand -a version -d 'Print the version'
complete -c gitseal -n __fish_use_subcommand -l help -s h -d 'List the commands'
complete -c gitseal -n __fish_use_subcommand -l version -s v -d 'Print the version'
complete -c gitseal -n __fish_use_subcommand -l config -r -F -d '.sops.yaml to use'
complete -c gitseal -n __fish_use_subcommand -l verbose -d 'Say on stderr what is done'
complete -c gitseal -n __fish_use_subcommand -l indent -x -d 'Indentation of YAML and JSON output'
complete -c gitseal -n __fish_use_subcommand -l mac-only-encrypted -d 'MAC over the encrypted values only'
complete -c gitseal -n __fish_use_subcommand -l unencrypted-comment-regex -x -d 'Plaintext after a matching comment'
complete -c gitseal -n __fish_use_subcommand -l encrypted-comment-regex -x -d 'Encrypt only after a matching comment'
complete -c gitseal -n __fish_use_subcommand -l decryption-order -x -a 'age pgp hc_vault' -d 'Key types to try first'
complete -c gitseal -n __fish_use_subcommand -s e -l encrypt -d 'sops legacy mode: encrypt FILE'
complete -c gitseal -n __fish_use_subcommand -s d -l decrypt -d 'sops legacy mode: decrypt FILE'
complete -c gitseal -n __fish_use_subcommand -s r -l rotate -d 'sops legacy mode: rotate FILE'
complete -c gitseal -n __fish_use_subcommand -l set -x -d 'sops legacy mode: set one value of FILE'

# Files as arguments
for cmd in $__gitseal_sops age keygen
    complete -c gitseal -n "__gitseal_is $cmd" -F
end
complete -c gitseal -n '__gitseal_is render' -a '(__fish_complete_directories)'

# The sops-compatible commands: their option tables (src/cmd/sops_options.c).
# sops's cloud KMS and key-service flags are refused by gitseal and not offered.
# sops's global flags, which these commands also take after the command
for cmd in $__gitseal_sops 'groups add' 'groups delete'
    complete -c gitseal -n "__gitseal_is $cmd" -s h -l help -d 'Print the usage'
    complete -c gitseal -n "__gitseal_is $cmd" -l config -r -F -d '.sops.yaml to use'
    complete -c gitseal -n "__gitseal_is $cmd" -l verbose -d 'Say on stderr what is done'
    complete -c gitseal -n "__gitseal_is $cmd" -l input-type -x -a $__gitseal_types -d 'Format of the input'
end
for cmd in encrypt decrypt edit set unset rotate exec-file 'groups add' 'groups delete'
    complete -c gitseal -n "__gitseal_is $cmd" -l indent -x -d 'Indentation of YAML and JSON output'
    complete -c gitseal -n "__gitseal_is $cmd" -l output-type -x -a $__gitseal_types -d 'Format of the output'
end
for cmd in decrypt edit set unset rotate exec-env exec-file
    complete -c gitseal -n "__gitseal_is $cmd" -l decryption-order -x -a 'age pgp hc_vault' -d 'Key types to try first'
    complete -c gitseal -n "__gitseal_is $cmd" -l ignore-mac -d 'Go on when the MAC does not match'
end
for cmd in encrypt decrypt rotate 'groups add' 'groups delete'
    complete -c gitseal -n "__gitseal_is $cmd" -s i -l in-place -d 'Write the result back to the file'
end
for cmd in encrypt decrypt rotate
    complete -c gitseal -n "__gitseal_is $cmd" -l output -r -F -d 'Write the result to a file'
    complete -c gitseal -n "__gitseal_is $cmd" -l filename-override -r -F -d 'File name for the format and rule'
end
for cmd in encrypt edit
    complete -c gitseal -n "__gitseal_is $cmd" -s a -l age -x -d 'age recipients, comma-separated'
    complete -c gitseal -n "__gitseal_is $cmd" -s p -l pgp -x -d 'PGP fingerprints, comma-separated'
    complete -c gitseal -n "__gitseal_is $cmd" -l hc-vault-transit -x -d 'Vault transit key URIs'
    complete -c gitseal -n "__gitseal_is $cmd" -l unencrypted-suffix -x -d 'Plaintext below keys with this suffix'
    complete -c gitseal -n "__gitseal_is $cmd" -l encrypted-suffix -x -d 'Encrypt only below keys with this suffix'
    complete -c gitseal -n "__gitseal_is $cmd" -l unencrypted-regex -x -d 'Plaintext below matching keys'
    complete -c gitseal -n "__gitseal_is $cmd" -l encrypted-regex -x -d 'Encrypt only below matching keys'
    complete -c gitseal -n "__gitseal_is $cmd" -l unencrypted-comment-regex -x -d 'Plaintext after a matching comment'
    complete -c gitseal -n "__gitseal_is $cmd" -l encrypted-comment-regex -x -d 'Encrypt only after a matching comment'
    complete -c gitseal -n "__gitseal_is $cmd" -l mac-only-encrypted -d 'MAC over the encrypted values only'
end
for cmd in encrypt edit rotate updatekeys 'groups add'
    complete -c gitseal -n "__gitseal_is $cmd" -l drop-unsupported-keys -d 'Go on without keys gitseal cannot wrap for'
    complete -c gitseal -n "__gitseal_is $cmd" -s y -l yes -d 'Do not ask'
end
for cmd in encrypt edit set unset rotate updatekeys 'groups add' 'groups delete'
    complete -c gitseal -n "__gitseal_is $cmd" -l shamir-secret-sharing-threshold -x -d 'Key groups needed'
end

# decrypt, edit
complete -c gitseal -n '__gitseal_is decrypt' -l extract -x -d 'Print one value: a tree path'
complete -c gitseal -n '__gitseal_is edit' -s s -l show-master-keys -d 'Show the metadata (read-only)'
complete -c gitseal -n '__gitseal_is edit' -l keep-file-rule -d "New values in clear where the file's own rule says so"

# set, unset
complete -c gitseal -n '__gitseal_is set' -l value-file -d 'VALUE names a file holding the JSON value'
complete -c gitseal -n '__gitseal_is set' -l value-stdin -d 'Read the JSON value from standard input'
complete -c gitseal -n '__gitseal_is set' -l idempotent -d 'Nothing to do when the value is already so'
complete -c gitseal -n '__gitseal_is set' -l keep-file-rule -d "A new value in clear where the file's own rule says so"
complete -c gitseal -n '__gitseal_is unset' -l idempotent -d 'A missing path is not an error'

# rotate, updatekeys
complete -c gitseal -n '__gitseal_is rotate' -l add-age -x -d 'Add age recipients'
complete -c gitseal -n '__gitseal_is rotate' -l rm-age -x -d 'Remove age recipients'
complete -c gitseal -n '__gitseal_is rotate' -l add-pgp -x -d 'Add PGP keys'
complete -c gitseal -n '__gitseal_is rotate' -l rm-pgp -x -d 'Remove PGP keys'
complete -c gitseal -n '__gitseal_is rotate' -l add-hc-vault-transit -x -d 'Add Vault transit keys'
complete -c gitseal -n '__gitseal_is rotate' -l rm-hc-vault-transit -x -d 'Remove Vault transit keys'
for cmd in rotate updatekeys
    complete -c gitseal -n "__gitseal_is $cmd" -s r -l recursive -d 'Every sops file below the directories'
end
complete -c gitseal -n '__gitseal_is updatekeys' -l rotate -d 'Files under the git filter: a new data key too'

# groups add | delete
complete -c gitseal -n '__gitseal_needs_sub groups' -a add -d 'Add a key group'
complete -c gitseal -n '__gitseal_needs_sub groups' -a delete -d 'Delete a key group'
complete -c gitseal -n '__gitseal_needs_sub groups' -s h -l help -d 'Print the usage'
for sub in add delete
    complete -c gitseal -n "__gitseal_is groups $sub" -s f -l file -r -F -d 'The sops file'
end
complete -c gitseal -n '__gitseal_is groups add' -l age -x -d 'An age recipient of the new group'
complete -c gitseal -n '__gitseal_is groups add' -l pgp -x -d 'A PGP key of the new group'
complete -c gitseal -n '__gitseal_is groups add' -l hc-vault-transit -x -d 'A Vault transit key of the new group'

# exec-env, exec-file
complete -c gitseal -n '__gitseal_is exec-env' -l pristine -d "Only the file's entries in the environment"
complete -c gitseal -n '__gitseal_is exec-env' -l allow-unencrypted-env -d "Export values in clear too (their names are not authenticated)"
complete -c gitseal -n '__gitseal_is exec-env' -l same-process -d 'Run the command in place of gitseal'
complete -c gitseal -n '__gitseal_is exec-file' -l no-fifo -d 'A private file instead of a FIFO'
complete -c gitseal -n '__gitseal_is exec-file' -l filename -x -d 'Name of the FIFO or file'
for cmd in exec-env exec-file
    complete -c gitseal -n "__gitseal_is $cmd" -l background -d 'Do not wait for the command'
    complete -c gitseal -n "__gitseal_is $cmd" -l user -x -a '(__fish_complete_users)' -d 'Run the command as this user'
end

# age
complete -c gitseal -n '__gitseal_is age' -s e -l encrypt -d 'Encrypt (the default)'
complete -c gitseal -n '__gitseal_is age' -s d -l decrypt -d 'Decrypt'
complete -c gitseal -n '__gitseal_is age' -s o -l output -r -F -d 'Write to a file once the input succeeded'
complete -c gitseal -n '__gitseal_is age' -s a -l armor -d 'ASCII armor'
complete -c gitseal -n '__gitseal_is age' -s p -l passphrase -d 'Encrypt with a passphrase'
complete -c gitseal -n '__gitseal_is age' -s r -l recipient -x -d 'Recipient (age1..., ssh-ed25519, ssh-rsa)'
complete -c gitseal -n '__gitseal_is age' -s R -l recipients-file -r -F -d 'File of recipients'
complete -c gitseal -n '__gitseal_is age' -s i -l identity -r -F -d 'Identity file'
complete -c gitseal -n '__gitseal_is age' -l allow-mixed -d 'Post-quantum and classic recipients together'
complete -c gitseal -n '__gitseal_is age' -s h -l help -d 'Print the usage'

# keygen
complete -c gitseal -n '__gitseal_is keygen' -s o -l output -r -F -d 'Write to a file (never overwritten)'
complete -c gitseal -n '__gitseal_is keygen' -s y -d 'Print the recipients of an identity file'
complete -c gitseal -n '__gitseal_is keygen' -o pq -d 'A post-quantum hybrid identity'
complete -c gitseal -n '__gitseal_is keygen' -s h -l help -d 'Print the usage'

# git init | check | filter-process | textconv | merge
complete -c gitseal -n '__gitseal_needs_sub git' -a init -d 'Set up the filter in this repository'
complete -c gitseal -n '__gitseal_needs_sub git' -a status -d 'What this clone sees of each file under the filter'
complete -c gitseal -n '__gitseal_needs_sub git' -a lock -d 'The work tree back to ciphertext'
complete -c gitseal -n '__gitseal_needs_sub git' -a unlock -d 'Decrypt the work tree again'
complete -c gitseal -n '__gitseal_needs_sub git' -a check -d 'Refuse what must not be committed'
complete -c gitseal -n '__gitseal_needs_sub git' -a trust -d 'Re-use the data key of a file made in another clone'
complete -c gitseal -n '__gitseal_needs_sub git' -a filter-process -d 'The filter, run by git'
complete -c gitseal -n '__gitseal_needs_sub git' -a textconv -d 'Plaintext for git diff'
complete -c gitseal -n '__gitseal_needs_sub git' -a merge -d 'The merge driver, run by git'
complete -c gitseal -n '__gitseal_needs_sub git' -s h -l help -d 'Print the usage'
complete -c gitseal -n '__gitseal_is git init' -l no-hook -d 'No pre-commit, pre-merge-commit or pre-push hook'
complete -c gitseal -n '__gitseal_is git init' -l hook -d 'Install the hooks (the default)'
complete -c gitseal -n '__gitseal_is git check' -l commits -d 'Check the commits of the revisions given'
complete -c gitseal -n '__gitseal_is git check' -l pre-push -d 'Check the commits a push sends (the hook)'
complete -c gitseal -n '__gitseal_is git lock' -s f -l force -d 'Even with changes not committed'
complete -c gitseal -n '__gitseal_is git trust' -s y -l yes -d 'Without asking'
complete -c gitseal -n '__gitseal_is git trust' -F
complete -c gitseal -n '__gitseal_is git textconv' -F
complete -c gitseal -n '__gitseal_is git merge' -F

# render, krm
complete -c gitseal -n '__gitseal_is render' -s h -l help -d 'Print the usage'
complete -c gitseal -n '__gitseal_is render' -l root -r -a '(__fish_complete_directories)' -d 'Read nothing outside this directory'
complete -c gitseal -n '__gitseal_is render' -l bind-namespace -d 'Resources only into their source namespace (=A,B: these)'
complete -c gitseal -n '__gitseal_is render' -l allow-empty -d 'Succeed when nothing renders'
complete -c gitseal -n '__gitseal_is render' -l discover -d 'Print the directory when it uses encrypted files'
complete -c gitseal -n '__gitseal_is krm' -l root -r -a '(__fish_complete_directories)' -d 'Read nothing outside this directory'
complete -c gitseal -n '__gitseal_is krm' -l legacy -r -F -d 'Legacy exec plugin with this config'
complete -c gitseal -n '__gitseal_is krm' -s h -l help -d 'Print the usage'

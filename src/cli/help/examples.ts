/**
 * The examples at the end of each command's `--help`, one command line and what it does. README.md shows the same
 * command lines; test/e2e/everyday-help.test.ts runs the ones marked runnable against a real broker.
 */
export const EXAMPLES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  send: [
    ['mqimg send photo.jpg -t cam/1', 'send one image to whoever receives on cam/1'],
    [
      'mqimg send photo.jpg -t cam/1 -h broker.lan -u alice -P s3cret',
      'mosquitto_pub habits: host, user, password',
    ],
    ['mqimg send IMG_5195.HEIC -t cam/1 --format original', "the file's bytes, untouched (any file)"],
    ['mqimg send photo.jpg -t display/tft --profile ili9341-rgb565', 'prepared for a 320x240 TFT'],
    ['mqimg send photo.jpg -t frame/1 -r', 'retained, for displays that connect later'],
    ['mqimg send --watch ~/Pictures/inbox -t frame/1', 'send each new image written to a folder'],
    [
      'mqimg send photo.jpg -t cam/1 --recipient hall.pub',
      'exit 0 only when the receiver named hall saved it',
    ],
  ],
  receive: [
    ['mqimg receive -o ~/inbox', 'save every image sent on this broker in ~/inbox'],
    ['mqimg receive -o ~/inbox -t cam/+ --once', 'the next image from any cam/..., then exit'],
    [
      'mqimg receive -o ~/inbox -h broker.lan -u alice -P s3cret -i disp-7',
      'host, user, password, client id',
    ],
    ['mqimg receive -o ~/inbox --json | jq .', 'one JSON line per event, for scripts'],
    [
      'mqimg receive -o ~/frame -t cam/door --latest current.jpg --keep 50',
      'a fixed newest file, a bounded folder',
    ],
    ['mqimg receive -o ~/inbox --identity hall.key', 'a named receiver, for send --recipient hall.pub'],
  ],
  clear: [['mqimg clear -t frame/1', 'remove the retained image that send -r left on frame/1']],
  relay: [
    [
      'mqimg relay --from frigate/+/person/snapshot --to display/door --profile ili9341-jpeg',
      'Frigate snapshots to a TFT',
    ],
  ],
  broker: [
    ['mqimg broker -p 1884 --ws-port 9001', 'a broker for trying mqimg, with WebSocket for mqimg display'],
  ],
  display: [
    ['mqimg display --url mqtt://127.0.0.1:1883 -t cam/1', 'a full-screen page on port 8080, any broker'],
    ['mqimg display --url ws://192.168.1.10:9001 -t cam/1', 'the page connects to a WebSocket broker itself'],
  ],
  demo: [['mqimg demo', 'send the bundled samples through an embedded broker and check them']],
  keygen: [
    ['mqimg keygen camera', 'camera.key for send --sign, camera.pub for receive --trust'],
    ['mqimg keygen --secret shared.key', 'a secret for send/receive --encrypt'],
  ],
  completion: [
    ['mqimg completion bash > ~/.local/share/bash-completion/completions/mqimg', 'bash'],
    ['mqimg completion zsh > ~/.zfunc/_mqimg', 'zsh (with fpath+=(~/.zfunc) in ~/.zshrc, before compinit)'],
    ['mqimg completion fish > ~/.config/fish/completions/mqimg.fish', 'fish'],
  ],
};

/** The examples of `command` as help text lines (`  $ mqimg ...` then what it does), or undefined. */
export function examplesOf(command: string): string | undefined {
  const examples = EXAMPLES[command];
  if (!examples) return undefined;
  return examples.map(([line, what]) => `  $ ${line}\n      ${what}`).join('\n');
}

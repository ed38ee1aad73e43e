// Starts `dockerlint server` (LSP over stdio) for the files dockerlint reads.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

// Every file that can change what dockerlint says about an image.
const PATTERNS = [
  "**/{Dockerfile,Containerfile}",
  "**/{Dockerfile,Containerfile}.*",
  "**/*.{dockerfile,Dockerfile,containerfile}",
  "**/{.dockerignore,*.dockerignore}",
  "**/{requirements,constraints}*.{txt,in}",
  "**/requirements/*.{txt,in}",
  "**/pyproject.toml",
  "**/.dockerlint.toml",
  "**/{docker-compose,compose}*.{yml,yaml}",
  "**/*.py",
  "**/*.ipynb",
];

let client;

function start() {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? "";
  const setting = vscode.workspace.getConfiguration("dockerlint").get("path") || "dockerlint";
  const command = setting.replace("${workspaceFolder}", folder);
  const server = { command, args: ["server"] };
  client = new LanguageClient(
    "dockerlint",
    "dockerlint",
    { run: server, debug: server },
    {
      documentSelector: PATTERNS.map((pattern) => ({ scheme: "file", pattern })),
      outputChannelName: "dockerlint",
    }
  );
  return client.start().catch((error) => {
    vscode.window.showErrorMessage(
      `dockerlint: could not start \`${command} server\` (${error.message}). ` +
        "Install it with `pip install 'dockerlint[server]'`, or set `dockerlint.path`."
    );
  });
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("dockerlint.restart", async () => {
      if (client) {
        await client.stop();
      }
      await start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("dockerlint.path") && client) {
        await client.stop();
        await start();
      }
    })
  );
  return start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

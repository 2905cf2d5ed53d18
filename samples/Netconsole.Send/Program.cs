using Netconsole.Send;

return SendTool.Run(args, Console.Out, Console.Error);
